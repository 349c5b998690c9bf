#include "core/bpf_load.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/log.h"

static int read_file(const char *path, void **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	void *buf = NULL;
	long size;
	int err = 0;

	if (!f)
		return -errno;
	if (fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		err = -errno;
		goto out;
	}
	buf = malloc(size ? (size_t)size : 1);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
		err = -EIO;
		free(buf);
		goto out;
	}
	*out = buf;
	*len = (size_t)size;
out:
	fclose(f);
	return err;
}

int am_skel_open(struct bpf_object_skeleton *s, const char *name, const char *btf_path,
		 struct am_bpf_open_state *st)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = btf_path);
	const char *dir = getenv("ANTIMETAL_BPF_PATH");
	size_t len = 0;
	int err;

	if (dir && *dir) {
		snprintf(st->path, sizeof(st->path), "%s/%s.bpf.o", dir, name);
		err = read_file(st->path, &st->obj_buf, &len);
		if (err) {
			am_err("ANTIMETAL_BPF_PATH: cannot read %s: %s", st->path, strerror(-err));
			return err;
		}
		s->data = st->obj_buf;
		s->data_sz = len;
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
