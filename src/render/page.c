/* page.c: report.html, the analyst's page: the template (page.html, compiled in) with Leaflet
 * and the run's data put in its place, so the page is one file that works offline. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/render.h"
#include "sd_config.h"

extern const char sd_page_template[];

/* A whole file as a string, or NULL (errno set). */
static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = NULL;
  long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
  if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1))) {
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
      free(buf);
      buf = NULL;
      errno = EIO;
    } else {
      buf[n] = '\0';
    }
  }
  fclose(f);
  return buf;
}

/* Drops a trailing source-map comment, which a browser's tools would fetch. */
static void drop_source_map(char *s, const char *mark) {
  char *p = strstr(s, mark);
  if (p) *p = '\0';
}

sd_status sd_page_leaflet(char **css, char **js, sd_error *err) {
  const char *dir = getenv("SITEDIFF_LEAFLET_DIR");
  if (!dir || !*dir) dir = SD_LEAFLET_DIR;
  char path[4200];
  snprintf(path, sizeof path, "%s/leaflet.css", dir);
  *css = slurp(path);
  snprintf(path, sizeof path, "%s/leaflet.min.js", dir);
  *js = *css ? slurp(path) : NULL;
  if (!*js) {
    snprintf(path, sizeof path, "%s/leaflet.js", dir);
    *js = *css ? slurp(path) : NULL;
  }
  if (!*css || !*js) {
    int e = errno;
    free(*css);
    *css = *js = NULL;
    return sd_error_set(err, SD_ERR_OUTPUT,
                        "page: no Leaflet in %s (%s): install Debian's libjs-leaflet or set SITEDIFF_LEAFLET_DIR", dir,
                        strerror(e));
  }
  drop_source_map(*css, "/*# sourceMappingURL=");
  drop_source_map(*js, "//# sourceMappingURL=");
  if (strstr(*js, "</script") || strstr(*css, "</style")) {
    free(*css);
    free(*js);
    *css = *js = NULL;
    return sd_error_set(err, SD_ERR_OUTPUT, "page: the Leaflet in %s cannot be put inline", dir);
  }
  return SD_OK;
}

sd_status sd_page_write(const char *path, const char *leaflet_css, const char *leaflet_js, const char *data_json,
                        sd_error *err) {
  if (strstr(data_json, "</")) return sd_error_set(err, SD_ERR_INTERNAL, "page: the data is not escaped for HTML");
  static const char *const marks[3] = {"/*SD:LEAFLET_CSS*/", "/*SD:LEAFLET_JS*/", "/*SD:DATA*/"};
  const char *parts[3] = {leaflet_css, leaflet_js, data_json};
  FILE *f = fopen(path, "wb");
  if (!f) return sd_error_set(err, SD_ERR_OUTPUT, "page: %s: %s", path, strerror(errno));
  const char *t = sd_page_template;
  int ok = 1;
  for (int k = 0; k < 3 && ok; k++) {
    const char *m = strstr(t, marks[k]);
    if (!m) {
      fclose(f);
      return sd_error_set(err, SD_ERR_INTERNAL, "page: the template has no %s", marks[k]);
    }
    ok = fwrite(t, 1, (size_t)(m - t), f) == (size_t)(m - t) && fputs(parts[k], f) >= 0;
    t = m + strlen(marks[k]);
  }
  ok = ok && fputs(t, f) >= 0;
  int e = errno;
  if (fclose(f) != 0 && ok) {
    ok = 0;
    e = errno;
  }
  return ok ? SD_OK : sd_error_set(err, SD_ERR_OUTPUT, "page: %s: %s", path, strerror(e));
}
