/* scene.c: the procedural site model behind `sitediff synth`. */
#include <math.h>
#include <string.h>

#include "core/core.h"
#include "synth/scene.h"

static const float SOIL[4] = {0.36f, 0.30f, 0.23f, 0.32f};
static const float GRASS[4] = {0.10f, 0.19f, 0.08f, 0.48f};
static const float DRY[4] = {0.30f, 0.28f, 0.18f, 0.36f};
static const float ASPHALT[4] = {0.17f, 0.17f, 0.18f, 0.19f};
static const float TRENCH[4] = {0.11f, 0.08f, 0.06f, 0.10f};
static const float VEHICLE[4] = {0.14f, 0.16f, 0.10f, 0.21f};
static const float ROOFS[6][4] = {
    {0.55f, 0.22f, 0.16f, 0.40f}, {0.62f, 0.62f, 0.64f, 0.58f}, {0.30f, 0.31f, 0.34f, 0.32f},
    {0.75f, 0.72f, 0.66f, 0.70f}, {0.20f, 0.34f, 0.52f, 0.30f}, {0.45f, 0.45f, 0.40f, 0.44f},
};

const char *sd_change_kind_name(sd_change_kind k) {
  static const char *const n[] = {"new_hut", "renovated_hut", "trench", "equipment"};
  return n[k];
}

const char *sd_change_kind_class(sd_change_kind k) {
  static const char *const n[] = {"structure", "structure", "trench", "equipment"};
  return n[k];
}

static int in_rect(const sd_rect *r, double u, double v) {
  double du = u - r->cu, dv = v - r->cv;
  double p = du * r->cosr + dv * r->sinr, q = -du * r->sinr + dv * r->cosr;
  return fabs(p) <= r->a && fabs(q) <= r->b;
}

static sd_rect make_rect(double cu, double cv, double a, double b, double ang) {
  sd_rect r = {cu, cv, a, b, cos(ang), sin(ang)};
  return r;
}

static double seg_dist(double u, double v, const double p[2], const double q[2]) {
  double dx = q[0] - p[0], dy = q[1] - p[1];
  double t = ((u - p[0]) * dx + (v - p[1]) * dy) / (dx * dx + dy * dy);
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  return hypot(u - (p[0] + t * dx), v - (p[1] + t * dy));
}

static double lattice(uint64_t seed, long ix, long iy) {
  uint64_t h = sd_hash64(seed ^ sd_hash64((uint64_t)ix * 0x9E3779B1u + sd_hash64((uint64_t)iy)));
  return (double)(h >> 11) * 0x1.0p-53;
}

static double value_noise(uint64_t seed, double x, double y) {
  long ix = (long)floor(x), iy = (long)floor(y);
  double fx = x - ix, fy = y - iy;
  fx = fx * fx * (3 - 2 * fx);
  fy = fy * fy * (3 - 2 * fy);
  double a = lattice(seed, ix, iy), b = lattice(seed, ix + 1, iy);
  double c = lattice(seed, ix, iy + 1), d = lattice(seed, ix + 1, iy + 1);
  return (a + (b - a) * fx) + ((c + (d - c) * fx) - (a + (b - a) * fx)) * fy;
}

static double fbm(uint64_t seed, double u, double v) {
  double sum = 0, amp = 0.5, scale = 1.0 / 40.0;
  for (int o = 0; o < 4; o++) {
    sum += amp * value_noise(seed + o, u * scale, v * scale);
    amp *= 0.5;
    scale *= 2.7;
  }
  return sum / 0.9375;
}

static int far_from_all(const sd_scene *s, double u, double v, double r) {
  for (int i = 0; i < s->nbuild; i++)
    if (hypot(u - s->build[i].roof.cu, v - s->build[i].roof.cv) < r + 12) return 0;
  for (int i = 0; i < s->nchanges; i++) {
    const sd_change *c = &s->change[i];
    if (hypot(u - c->cu, v - c->cv) < r + 16) return 0;
    for (int k = 0; k + 1 < c->npoly; k++)
      if (seg_dist(u, v, c->poly[k], c->poly[k + 1]) < r + 10) return 0;
  }
  for (int i = 0; i < s->nroads; i++) {
    double p[2] = {s->road[i][0], s->road[i][1]}, q[2] = {s->road[i][2], s->road[i][3]};
    if (seg_dist(u, v, p, q) < r + 6) return 0;
  }
  return 1;
}

/* A free spot in the central part of the scene (where every test grid overlaps). */
static int find_spot(sd_scene *s, sd_rng *rng, double r, double *u, double *v) {
  for (int tries = 0; tries < 400; tries++) {
    *u = sd_rng_range(rng, 0.18, 0.82) * s->size_m;
    *v = sd_rng_range(rng, 0.18, 0.82) * s->size_m;
    if (far_from_all(s, *u, *v, r)) return 1;
  }
  return 0;
}

static sd_rect shadow_of(const sd_rect *roof) {
  sd_rect sh = *roof;
  sh.cu += 1.6;
  sh.cv += 1.6; /* sun in the north-west */
  return sh;
}

/* The huts' changes: renovated roofs on existing buildings, then new huts with their shadows. */
static void add_huts(sd_scene *s, sd_rng *rng, int *id, double size_m) {
  /* Renovated huts: an existing building gets a roof of a clearly different colour. */
  int nren = 2 + (int)(sd_rng_uniform(rng) * 2);
  for (int i = 0; i < nren && i < s->nbuild; i++) {
    sd_building *bd = &s->build[i];
    sd_change *c = &s->change[s->nchanges++];
    c->id = ++*id;
    c->kind = SD_CHANGE_RENOVATED;
    c->cu = bd->roof.cu;
    c->cv = bd->roof.cv;
    c->nparts = 1;
    c->part[0] = bd->roof;
    const float *best = ROOFS[0];
    double bestd = -1;
    for (int k = 0; k < 6; k++) {
      double d = 0;
      for (int j = 0; j < 4; j++)
        d += (ROOFS[k][j] - bd->colour[j]) * (ROOFS[k][j] - bd->colour[j]);
      if (d > bestd) {
        bestd = d;
        best = ROOFS[k];
      }
    }
    memcpy(c->roof, best, sizeof c->roof);
    bd->renovated = s->nchanges;
  }
  int nhut = 3 + (int)(size_m * size_m / 40000.0);
  nhut = nhut > 10 ? 10 : nhut;
  for (int i = 0; i < nhut; i++) {
    double u, v, a = sd_rng_range(rng, 3.5, 7), b = sd_rng_range(rng, 3, 5);
    if (!find_spot(s, rng, a + 2, &u, &v)) break;
    sd_change *c = &s->change[s->nchanges++];
    c->id = ++*id;
    c->kind = SD_CHANGE_NEW_HUT;
    c->cu = u;
    c->cv = v;
    c->nparts = 2;
    c->part[0] = make_rect(u, v, a, b, sd_rng_range(rng, 0, M_PI));
    c->part[1] = shadow_of(&c->part[0]);
    memcpy(c->roof, ROOFS[sd_rng_next(rng) % 6], sizeof c->roof);
  }
}

void sd_scene_init(sd_scene *s, uint64_t seed, double size_m, double texture) {
  memset(s, 0, sizeof *s);
  s->seed = seed;
  s->size_m = size_m;
  s->texture = texture;
  s->shown = UINT32_MAX;
  sd_rng rng = {sd_hash64(seed * 7919 + 1)};
  /* Plainer ground has larger fields (up to 4x at 0), busier ground has more buildings. */
  double field_scale = texture < 0.5 ? 1 + 6 * (0.5 - texture) : 1;
  double build_scale = texture < 0.5 ? 0.3 + 1.4 * texture : 1 + 2 * (texture - 0.5);
  s->field_angle = sd_rng_range(&rng, -0.6, 0.6);
  s->field_w = sd_rng_range(&rng, 50, 90) * field_scale;
  s->field_h = sd_rng_range(&rng, 35, 70) * field_scale;
  if (texture <= 0) return; /* bare ground: nothing on it, nothing changes */
  s->nroads = 2 + (int)(sd_rng_uniform(&rng) * 2);
  for (int i = 0; i < s->nroads; i++) {
    double ang = sd_rng_range(&rng, 0, M_PI), cu = sd_rng_range(&rng, 0.2, 0.8) * size_m,
           cv = sd_rng_range(&rng, 0.2, 0.8) * size_m, L = 2 * size_m;
    s->road[i][0] = cu - L * cos(ang);
    s->road[i][1] = cv - L * sin(ang);
    s->road[i][2] = cu + L * cos(ang);
    s->road[i][3] = cv + L * sin(ang);
  }
  int id = 0;
  int ntr = 2 + (int)(sd_rng_uniform(&rng) * 2);
  for (int i = 0; i < ntr; i++) {
    double u, v;
    if (!find_spot(s, &rng, 22, &u, &v)) break;
    sd_change *c = &s->change[s->nchanges++];
    c->id = ++id;
    c->kind = SD_CHANGE_TRENCH;
    c->width = sd_rng_range(&rng, 2.0, 3.0);
    c->npoly = 5;
    double ang = sd_rng_range(&rng, 0, 2 * M_PI), pu = u, pv = v;
    /* Start so the centre line is roughly centred on (u, v). */
    pu -= 25 * cos(ang);
    pv -= 25 * sin(ang);
    for (int k = 0; k < c->npoly; k++) {
      c->poly[k][0] = pu;
      c->poly[k][1] = pv;
      double len = sd_rng_range(&rng, 10, 16);
      pu += len * cos(ang);
      pv += len * sin(ang);
      ang += sd_rng_range(&rng, -0.6, 0.6);
    }
    c->cu = u;
    c->cv = v;
  }
  int ncl = 1 + (int)(sd_rng_uniform(&rng) * 2);
  for (int i = 0; i < ncl; i++) {
    double u, v;
    if (!find_spot(s, &rng, 16, &u, &v)) break;
    sd_change *c = &s->change[s->nchanges++];
    c->id = ++id;
    c->kind = SD_CHANGE_EQUIPMENT;
    c->cu = u;
    c->cv = v;
    int want_v = 3 + (int)(sd_rng_uniform(&rng) * 4);
    for (int tries = 0; tries < 200 && c->nparts < want_v; tries++) {
      double r = sd_rng_range(&rng, 0, 14), t = sd_rng_range(&rng, 0, 2 * M_PI);
      double vu = u + r * cos(t), vv = v + r * sin(t);
      int ok = 1;
      for (int k = 0; k < c->nparts; k++)
        if (hypot(vu - c->part[k].cu, vv - c->part[k].cv) < 8.5) ok = 0;
      if (ok)
        c->part[c->nparts++] =
            make_rect(vu, vv, sd_rng_range(&rng, 2.6, 3.2), sd_rng_range(&rng, 1.2, 1.5), sd_rng_range(&rng, 0, M_PI));
    }
  }
  int want = (int)(size_m * size_m / 9000.0);
  want = want < 6 ? 6 : want > 40 ? 40 : want;
  if (build_scale != 1) want = (int)ceil(want * build_scale);
  for (int i = 0; i < want && s->nbuild < 64; i++) {
    double u, v, a = sd_rng_range(&rng, 3.5, 8), b = sd_rng_range(&rng, 3, 5);
    if (!find_spot(s, &rng, a + 2, &u, &v)) break;
    sd_building *bd = &s->build[s->nbuild++];
    bd->roof = make_rect(u, v, a, b, sd_rng_range(&rng, 0, M_PI));
    bd->shadow = shadow_of(&bd->roof);
    memcpy(bd->colour, ROOFS[sd_rng_next(&rng) % 6], sizeof bd->colour);
  }
  add_huts(s, &rng, &id, size_m);
}

int sd_scene_truth(const sd_scene *s, double u, double v) {
  for (int i = 0; i < s->nchanges; i++) {
    const sd_change *c = &s->change[i];
    if (fabs(u - c->cu) > 60 || fabs(v - c->cv) > 60) continue;
    if (c->kind == SD_CHANGE_TRENCH) {
      for (int k = 0; k + 1 < c->npoly; k++)
        if (seg_dist(u, v, c->poly[k], c->poly[k + 1]) <= c->width / 2) return c->id;
    } else {
      for (int k = 0; k < c->nparts; k++)
        if (in_rect(&c->part[k], u, v)) return c->id;
    }
  }
  return 0;
}

void sd_scene_sample(const sd_scene *s, double u, double v, int after, float out[SD_SCENE_BANDS]) {
  if (s->texture <= 0) { /* bare ground: one colour everywhere */
    memcpy(out, SOIL, sizeof SOIL);
    return;
  }
  /* Ground: soil/grass mix from fbm, modulated by field parcels. */
  double t = fbm(s->seed, u, v);
  double ca = cos(s->field_angle), sa = sin(s->field_angle);
  double fu = u * ca + v * sa, fv = -u * sa + v * ca;
  long cu = (long)floor(fu / s->field_w), cv = (long)floor(fv / s->field_h);
  int crop = (int)(sd_hash64(s->seed ^ sd_hash64((uint64_t)cu * 31 + (uint64_t)cv * 1000003)) % 3);
  /* Ground texture and furrows scale with the texture level (0.5: as they always were). */
  double amp = s->texture > 1 ? 1 : s->texture;
  double furrow = 0.04 * (amp / 0.5) * sin(2 * M_PI * fu / 3.0);
  /* Fields differ less in colour on plainer ground (below 0.5: blended toward the mean). */
  double contrast = amp >= 0.5 ? 1 : 0.1 + 1.8 * amp;
  for (int b = 0; b < 4; b++) {
    float base = crop == 0 ? SOIL[b] : crop == 1 ? GRASS[b] : DRY[b];
    if (contrast < 1) base = (float)(contrast * base + (1 - contrast) * (SOIL[b] + GRASS[b] + DRY[b]) / 3);
    out[b] = (float)(base * ((1 - 0.5 * amp) + amp * t) + (crop == 0 ? furrow * SOIL[b] : 0));
  }
  for (int i = 0; i < s->nroads; i++) {
    double p[2] = {s->road[i][0], s->road[i][1]}, q[2] = {s->road[i][2], s->road[i][3]};
    if (seg_dist(u, v, p, q) < 3.0) memcpy(out, ASPHALT, sizeof ASPHALT);
  }
  /* Shadows first, roofs over them. */
  for (int i = 0; i < s->nbuild; i++)
    if (in_rect(&s->build[i].shadow, u, v))
      for (int b = 0; b < 4; b++)
        out[b] *= 0.35f;
  if (after)
    for (int i = 0; i < s->nchanges; i++)
      if (s->change[i].kind == SD_CHANGE_NEW_HUT && (s->shown >> i & 1) && in_rect(&s->change[i].part[1], u, v))
        for (int b = 0; b < 4; b++)
          out[b] *= 0.35f;
  for (int i = 0; i < s->nbuild; i++)
    if (in_rect(&s->build[i].roof, u, v)) {
      const sd_building *bd = &s->build[i];
      int ren = after && bd->renovated && (s->shown >> (bd->renovated - 1) & 1);
      const float *col = ren ? s->change[bd->renovated - 1].roof : bd->colour;
      memcpy(out, col, sizeof(float) * 4);
    }
  if (!after) return;
  for (int i = 0; i < s->nchanges; i++) {
    const sd_change *c = &s->change[i];
    if (!(s->shown >> i & 1) || fabs(u - c->cu) > 60 || fabs(v - c->cv) > 60) continue;
    if (c->kind == SD_CHANGE_NEW_HUT && in_rect(&c->part[0], u, v)) memcpy(out, c->roof, sizeof c->roof);
    if (c->kind == SD_CHANGE_EQUIPMENT)
      for (int k = 0; k < c->nparts; k++)
        if (in_rect(&c->part[k], u, v)) memcpy(out, VEHICLE, sizeof VEHICLE);
    if (c->kind == SD_CHANGE_TRENCH)
      for (int k = 0; k + 1 < c->npoly; k++)
        if (seg_dist(u, v, c->poly[k], c->poly[k + 1]) <= c->width / 2) memcpy(out, TRENCH, sizeof TRENCH);
  }
}
