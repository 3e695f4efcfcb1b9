/* evidence.h: what a change looks like beside its magnitude: vegetation in each date (leaf, crop
 * and lawn change is not a structure), for the structure focus (--focus structures). */
#ifndef SD_EVIDENCE_H
#define SD_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "diff/features.h"
#include "radiometry/radiometry.h"

/* The vegetation index a pair allows: NDVI with red and near-infrared bands, else the excess
 * green of the chromatic coordinates (2g - r - b, with r + g + b = 1) with red, green and blue,
 * else none. */
typedef enum sd_veg_index { SD_VEG_NONE = 0, SD_VEG_NDVI, SD_VEG_EXG } sd_veg_index;
sd_veg_index sd_veg_index_of(const sd_band_roles *roles);
const char *sd_veg_index_name(sd_veg_index v);
/* The level above which a pixel counts as vegetated, for that index; and the largest change of
 * the index between the dates that is still the same vegetation changing colour. */
float sd_veg_threshold(sd_veg_index v);
float sd_veg_max_change(sd_veg_index v);

/* The vegetation index of n pixels from band planes (the after date's through the radiometric
 * fit, before ≈ gain * after + offset, when radio is given); NaN where a band is. */
void sd_vegetation(sd_veg_index v, const sd_band_roles *roles, const float *const *band, const sd_radiometry *radio,
                   size_t n, float *out);

/* Where both dates are vegetated (index above thr) and the index moved by less than max_change,
 * the change is leaves, crops or lawns that changed colour, not a structure: the magnitude there turns negative (its
 * size kept for the record), so no threshold takes it; the histogram the threshold is chosen from is made before, so
 * the threshold does not move with it. Returns how many pixels it marked. */
int64_t sd_mark_vegetated(const float *veg_before, const float *veg_after, float thr, float max_change, size_t n,
                          float *mag);

#endif
