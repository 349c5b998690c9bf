/* A self-contained SVG flame graph (no scripts, no external files): frame widths proportional
 * to samples, a tooltip with the count and share on every frame. */
#ifndef ANTIMETAL_EXPORT_FLAMEGRAPH_SVG_H
#define ANTIMETAL_EXPORT_FLAMEGRAPH_SVG_H

#include "records/profile.h"
#include "util/strbuf.h"

/* Append PROF as an SVG document titled TITLE (NULL: "CPU profile") to OUT. Returns 0 or
 * -ENOMEM. */
int am_flamegraph_svg_render(const struct am_profile *prof, const char *title,
			     struct am_strbuf *out);

#endif
