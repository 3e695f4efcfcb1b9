/* scene.h: a procedural site (ground, fields, roads, buildings) and its changes, defined on
 * continuous ground coordinates so any grid can sample it exactly. */
#ifndef SD_SCENE_H
#define SD_SCENE_H

#include <stdint.h>

enum { SD_SCENE_BANDS = 4 }; /* red, green, blue, nir reflectance */

typedef enum sd_change_kind {
  SD_CHANGE_NEW_HUT,   /* a new building with its shadow: class structure, sign new */
  SD_CHANGE_RENOVATED, /* an existing building's roof changed: structure, altered */
  SD_CHANGE_TRENCH,    /* a bent trench a few metres wide: trench, new */
  SD_CHANGE_EQUIPMENT, /* a cluster of vehicles: equipment, new */
} sd_change_kind;

typedef struct sd_rect {
  double cu, cv, a, b, cosr, sinr; /* centre, half sizes, rotation */
} sd_rect;

typedef struct sd_change {
  int id;
  sd_change_kind kind;
  double cu, cv; /* centre, metres */
  int nparts;
  sd_rect part[8];   /* huts: roof (+ shadow in part[1]); vehicles */
  double poly[6][2]; /* trench centre line */
  int npoly;
  double width; /* trench width */
  float roof[SD_SCENE_BANDS];
} sd_change;

typedef struct sd_building {
  sd_rect roof, shadow;
  float colour[SD_SCENE_BANDS];
  int renovated; /* index+1 into changes when its roof changes */
} sd_building;

typedef struct sd_scene {
  uint64_t seed;
  double size_m;  /* the scene spans [0, size_m]^2, u east, v south */
  double texture; /* 0 bare ground, 0.1 plain farmland, 0.5 mixed (the default), 1 dense town */
  double field_angle, field_w, field_h;
  int nroads;
  double road[4][4]; /* u0, v0, u1, v1 */
  int nbuild;
  sd_building build[64];
  int nchanges;
  sd_change change[32];
  uint32_t shown; /* the changes (bit i: change[i]) the after state shows; all of them by default */
} sd_scene;

/* texture: how busy the ground is. 0 is constant ground with nothing on it (no roads, buildings
 * or changes); up to 0.5 fields grow and ground texture, furrows and buildings thin out; above
 * 0.5 buildings grow denser. At 0.5 the scene is what it was before the level existed. */
void sd_scene_init(sd_scene *s, uint64_t seed, double size_m, double texture);
/* Reflectance at (u, v) metres, before (after = 0) or after (after = 1: with the changes in shown). */
void sd_scene_sample(const sd_scene *s, double u, double v, int after, float out[SD_SCENE_BANDS]);
/* Id of the change covering (u, v), 0 if none. */
int sd_scene_truth(const sd_scene *s, double u, double v);
const char *sd_change_kind_name(sd_change_kind k);
const char *sd_change_kind_class(sd_change_kind k);

#endif
