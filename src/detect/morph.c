/* morph.c: binary erosion/dilation with a (2r+1)^2 square, separable, by running counts;
 * nodata (255) counts as "no change" and is restored afterwards. Windows are clipped at the
 * image edge (the edge neither erodes nor grows objects). */
#include <stdlib.h>
#include <string.h>

#include "detect/detect.h"

/* want_all: erosion (all ones in window) else dilation (any one). */
static void pass_rows(const uint8_t *in, uint8_t *out, int w, int h, int r, int want_all) {
  SD_OMP(parallel for schedule(static))
  for (int y = 0; y < h; y++) {
    const uint8_t *row = in + (size_t)y * w;
    uint8_t *o = out + (size_t)y * w;
    int cnt = 0;
    for (int x = 0; x < r && x < w; x++)
      cnt += row[x] == 1;
    for (int x = 0; x < w; x++) {
      if (x + r < w) cnt += row[x + r] == 1;
      if (x - r - 1 >= 0) cnt -= row[x - r - 1] == 1;
      int lo = x - r < 0 ? 0 : x - r, hi = x + r >= w ? w - 1 : x + r;
      o[x] = want_all ? cnt == hi - lo + 1 : cnt > 0;
    }
  }
}

static void pass_cols(const uint8_t *in, uint8_t *out, int w, int h, int r, int want_all) {
  const int chunk = 256;
  SD_OMP(parallel for schedule(static))
  for (int x0 = 0; x0 < w; x0 += chunk) {
    int x1 = x0 + chunk < w ? x0 + chunk : w;
    int cnt[256] = {0};
    for (int y = 0; y < r && y < h; y++)
      for (int x = x0; x < x1; x++)
        cnt[x - x0] += in[(size_t)y * w + x] == 1;
    for (int y = 0; y < h; y++) {
      int lo = y - r < 0 ? 0 : y - r, hi = y + r >= h ? h - 1 : y + r;
      for (int x = x0; x < x1; x++) {
        if (y + r < h) cnt[x - x0] += in[(size_t)(y + r) * w + x] == 1;
        if (y - r - 1 >= 0) cnt[x - x0] -= in[(size_t)(y - r - 1) * w + x] == 1;
        out[(size_t)y * w + x] = want_all ? cnt[x - x0] == hi - lo + 1 : cnt[x - x0] > 0;
      }
    }
  }
}

static void morph(uint8_t *mask, int w, int h, int r, int want_all) {
  if (r <= 0) return;
  size_t n = (size_t)w * h;
  uint8_t *tmp = malloc(n), *res = malloc(n);
  if (!tmp || !res) {
    free(tmp);
    free(res);
    return;
  }
  pass_rows(mask, tmp, w, h, r, want_all);
  pass_cols(tmp, res, w, h, r, want_all);
  for (size_t i = 0; i < n; i++)
    if (mask[i] != 255) mask[i] = res[i];
  free(tmp);
  free(res);
}

void sd_morph_erode(uint8_t *mask, int w, int h, int r) { morph(mask, w, h, r, 1); }
void sd_morph_dilate(uint8_t *mask, int w, int h, int r) { morph(mask, w, h, r, 0); }

void sd_morph_open(uint8_t *mask, int w, int h, int r) {
  sd_morph_erode(mask, w, h, r);
  sd_morph_dilate(mask, w, h, r);
}

void sd_morph_close(uint8_t *mask, int w, int h, int r) {
  sd_morph_dilate(mask, w, h, r);
  sd_morph_erode(mask, w, h, r);
}

int64_t sd_fill_holes_ref(uint8_t *mask, int w, int h, int64_t max_px) {
  size_t n = (size_t)w * h;
  uint8_t *bg = malloc(n);
  int32_t *lab = malloc(n * sizeof *lab);
  int64_t filled = 0;
  if (!bg || !lab) goto done;
  for (size_t i = 0; i < n; i++)
    bg[i] = mask[i] == 0;
  int nl = sd_label(bg, w, h, lab);
  if (nl <= 0) goto done;
  int64_t *area = calloc((size_t)nl + 1, sizeof *area);
  uint8_t *open = calloc((size_t)nl + 1, 1); /* touches the edge or nodata: not a hole */
  if (!area || !open) {
    free(area);
    free(open);
    goto done;
  }
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      size_t i = (size_t)y * w + x;
      int32_t l = lab[i];
      if (!l) continue;
      area[l]++;
      if (x == 0 || y == 0 || x == w - 1 || y == h - 1)
        open[l] = 1;
      else if (mask[i - 1] == 255 || mask[i + 1] == 255 || mask[i - w] == 255 || mask[i + w] == 255)
        open[l] = 1;
    }
  for (size_t i = 0; i < n; i++)
    if (lab[i] && !open[lab[i]] && area[lab[i]] <= max_px) {
      mask[i] = 1;
      filled++;
    }
  free(area);
  free(open);
done:
  free(bg);
  free(lab);
  return filled;
}

/* The fast twin: a hole is enclosed by change, so it has a pixel next to a change pixel. From
 * each such background pixel, a flood over 8-connected background gives up as soon as it passes
 * max_px pixels, touches the grid edge or nodata, or meets a region already known to be open.
 * Only the background near change is visited, and no label image is made (the reference labels
 * the whole background: 5 more bytes per grid pixel and most of the clean-up time). Marks while
 * working: 2 known open, 3 hole, 4 in the current flood. */
int64_t sd_fill_holes(uint8_t *mask, int w, int h, int64_t max_px) {
  size_t cap = (size_t)max_px + 1;
  size_t *list = malloc(cap * sizeof *list), *stack = malloc(cap * sizeof *stack);
  if (!list || !stack) {
    free(list);
    free(stack);
    return sd_fill_holes_ref(mask, w, h, max_px);
  }
  static const int dx8[8] = {-1, 0, 1, -1, 1, -1, 0, 1}, dy8[8] = {-1, -1, -1, 0, 0, 1, 1, 1};
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      if (mask[(size_t)y * w + x] != 1) continue;
      for (int k = 0; k < 8; k++) {
        int sx = x + dx8[k], sy = y + dy8[k];
        if (sx < 0 || sy < 0 || sx >= w || sy >= h || mask[(size_t)sy * w + sx] != 0) continue;
        /* Flood from (sx, sy). */
        size_t nlist = 0, nstack = 0;
        int open = 0;
        size_t seed = (size_t)sy * w + sx;
        mask[seed] = 4;
        list[nlist++] = seed;
        stack[nstack++] = seed;
        while (nstack && !open) {
          size_t i = stack[--nstack];
          int px = (int)(i % (size_t)w), py = (int)(i / (size_t)w);
          if (px == 0 || py == 0 || px == w - 1 || py == h - 1 || mask[i - 1] == 255 || mask[i + 1] == 255 ||
              mask[i - w] == 255 || mask[i + w] == 255) {
            open = 1;
            break;
          }
          for (int m = 0; m < 8 && !open; m++) {
            size_t q = (size_t)(py + dy8[m]) * w + (px + dx8[m]);
            if (mask[q] == 2)
              open = 1; /* joins a region already known to be open */
            else if (mask[q] == 0) {
              if (nlist == cap)
                open = 1; /* larger than a hole */
              else {
                mask[q] = 4;
                list[nlist++] = q;
                stack[nstack++] = q;
              }
            }
          }
        }
        if ((int64_t)nlist > max_px) open = 1;
        for (size_t j = 0; j < nlist; j++)
          mask[list[j]] = open ? 2 : 3;
      }
    }
  int64_t filled = 0;
  size_t n = (size_t)w * h;
  for (size_t i = 0; i < n; i++) {
    if (mask[i] == 3) {
      mask[i] = 1;
      filled++;
    } else if (mask[i] == 2) {
      mask[i] = 0;
    }
  }
  free(list);
  free(stack);
  return filled;
}
