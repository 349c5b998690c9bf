/* JSON rendering of OOM-kill events (the "event" of a JSON line with source "oom"). */
#ifndef ANTIMETAL_EXPORT_OOM_RENDER_H
#define ANTIMETAL_EXPORT_OOM_RENDER_H

#include "records/oom_event.h"
#include "util/strbuf.h"

/* One JSON object for EV, no newline. Unknown values are null; figures are bytes. */
void am_oom_render_json(struct am_strbuf *b, const struct am_oom_event *ev);

#endif
