#include "core/bpf_load.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/capabilities.h"
#include "core/memlock.h"
#include "core/probes.h"
#include "util/file.h"
#include "util/log.h"

int am_skel_open(struct bpf_object_skeleton *s, const char *name, const char *btf_path,
		 struct am_bpf_open_state *st)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = btf_path);
	const char *dir = getenv("ANTIMETAL_BPF_PATH");
	struct am_strbuf obj = {0};
	int err;

	if (dir && *dir) {
		snprintf(st->path, sizeof(st->path), "%s/%s.bpf.o", dir, name);
		err = am_file_read(st->path, SIZE_MAX, &obj);
		if (err) {
			am_strbuf_free(&obj);
			am_err("ANTIMETAL_BPF_PATH: cannot read %s: %s", st->path,
			       am_file_strerror(-err));
			return err;
		}
		st->obj_buf = obj.data;
		s->data = st->obj_buf;
		s->data_sz = obj.len;
		am_debug("loading %s from %s instead of the embedded object", name, st->path);
	}
	err = bpf_object__open_skeleton(s, &opts);
	if (err) {
		am_err("cannot open BPF object %s%s%s%s: %s", name, dir && *dir ? " (" : "",
		       dir && *dir ? st->path : "", dir && *dir ? ")" : "", strerror(-err));
		return err;
	}
	return 0;
}

void am_bpf_open_state_release(struct am_bpf_open_state *st)
{
	free(st->obj_buf);
	st->obj_buf = NULL;
}

void am_bpf_report_load_error(const char *what, int err)
{
	const char *missing;

	if (am_memlock_explain(what, err))
		return;
	missing = err == -EPERM || err == -EACCES ? am_caps_missing_for_tracing() : NULL;
	if (missing)
		am_err("loading %s was not permitted: missing %s", what, missing);
	else if (am_probe_refused(err))
		am_err("loading %s was %s: the capabilities are held, so a seccomp filter or an "
		       "LSM refused bpf()",
		       what, am_probe_refused(err));
	else
		am_err("loading %s failed: %s (libbpf's and the verifier's messages are logged at "
		       "debug level)",
		       what, strerror(-err));
}
