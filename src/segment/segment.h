/* segment.h: superpixels of the pair (VLFeat's SLIC on both dates stacked) and, per segment,
 * the cues that tell a new structure from other change: how grey and how green the after date
 * is, how much edge and brightness it gained. The structure prior of a candidate segment is where
 * those cues put it among the scene's segments. */
#ifndef SD_SEGMENT_H
#define SD_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "diff/features.h"
#include "evidence/evidence.h"
#include "radiometry/radiometry.h"

/* SLIC superpixels of a window: both dates' bands (after through the radiometric fit), each
 * scaled by its spread over the window, as 2 * nbands channels; NaN pixels enter as the band's
 * mean. region: nominal side in pixels; labels (w * h) 0 .. n - 1. Returns n, or -1 when out of
 * memory. */
int sd_slic_pair(const sd_planes *before, const sd_planes *after, const sd_radiometry *radio, int region,
                 uint32_t *labels);

/* The cues of one segment. */
enum { SD_CUE_GREY, SD_CUE_UNGREEN, SD_CUE_EDGE_GAIN, SD_CUE_BRIGHT_GAIN, SD_CUES };
typedef struct sd_seg_cues {
  float cue[SD_CUES]; /* larger = more like a new structure (see segment.c) */
  int32_t valid_px;   /* pixels valid in both dates */
} sd_seg_cues;

/* The cues of every segment of a window (nseg entries of out); RGB roles are required (the
 * vegetation index is vi's, or none). */
int sd_segment_cues(const sd_planes *before, const sd_planes *after, const sd_radiometry *radio,
                    const sd_band_roles *roles, sd_veg_index vi, const uint32_t *labels, int nseg, sd_seg_cues *out);

/* The structure prior of each of ncand candidate segments: the mean over cues of the share of the
 * nref reference segments (the scene's) whose cue is lower, in [0, 1]. sorted_ref: the reference
 * cues, cue by cue, each sorted ascending (SD_CUES arrays of nref). */
void sd_structure_prior(const sd_seg_cues *cand, int64_t ncand, float *const sorted_ref[SD_CUES], int64_t nref,
                        float *prior);
/* Sorts the reference cues into that form (cues: SD_CUES arrays of nref, sorted in place). */
void sd_structure_sort_ref(float *const cues[SD_CUES], int64_t nref);

/* A candidate segment is kept as a possible structure when its prior exceeds this. */
float sd_structure_keep(void);

#endif
