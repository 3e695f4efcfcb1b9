/* segment.h: superpixels of the pair (VLFeat's SLIC on both dates stacked) and, per segment,
 * the cues that tell a new structure from other change: how grey and how green the after date
 * is, how much edge, brightness and spread of brightness it gained. The structure prior of a
 * segment is where those cues put it among the scene's segments; its score weighs its change by
 * that prior, and the scene's scores give the level a segment must pass. */
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
enum { SD_CUE_GREY, SD_CUE_UNGREEN, SD_CUE_EDGE_GAIN, SD_CUE_BRIGHT_GAIN, SD_CUE_SPREAD_GAIN, SD_CUES };
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

/* What a segment's pixels in its tile's core say of the change. */
typedef struct sd_seg_change {
  float mag;       /* mean of the magnitude (negative values as 0) over its valid pixels, in thresholds */
  float veg_share; /* share of them the vegetation rule turned negative (leaves, crops, lawns) */
  float det_share; /* share of them detected as change */
  int32_t px;      /* its valid pixels (magnitude not nodata) */
} sd_seg_change;

/* A segment's score: its change weighed by how built it looks, mag * (1 - veg_share) * prior^3. */
float sd_structure_score(float prior, const sd_seg_change *c);
/* The level a segment's score must pass: SD_STRUCTURE_LEVEL times Otsu's threshold of the n
 * scores, each weighted by its segment's valid pixels (128 bins over their range). */
double sd_structure_level(const float *score, const int32_t *px, int64_t n);
/* A segment is a candidate when at least this share of it was detected as change; a kept
 * candidate is changed as a whole. */
#define SD_STRUCTURE_MIN_DETECTED 0.1f
#define SD_STRUCTURE_LEVEL 0.25

#endif
