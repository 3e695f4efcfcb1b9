/* page.c: report.html, the analyst's page: the template (page.html, compiled in) with Leaflet
 * and the run's data put in its place, so the page is one file that works offline. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/render.h"

extern const char sd_page_template[];

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
