/* textfile: *.prom files that cron jobs and scripts leave in a directory (paths.textfile), served
 * as node_exporter's textfile collector serves them. A file that does not parse, repeats a
 * series another file already has, or gives a metric another type than another file did is
 * skipped whole, logged (once per file version) and flagged in node_textfile_scrape_error:
 * never served half-parsed. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "collectors/parse/parsers.h"
#include "collectors/system/simple.h"
#include "util/file.h"
#include "util/log.h"

#define MAX_FILES  256
#define MAX_WARNED 32
#define MAX_BYTES  (4 << 20)

static const struct am_metric_desc scrape_error = {
    .prom = "node_textfile_scrape_error",
    .help = "1 if there was an error opening or reading a file, 0 otherwise",
    .type = AM_METRIC_GAUGE,
};
static const struct am_metric_desc mtime = {
    .prom = "node_textfile_mtime_seconds",
    .help = "Unixtime mtime of textfiles successfully read.",
    .unit = "s",
    .type = AM_METRIC_GAUGE,
    .labels = {"file"},
};
static const struct am_metric_desc rejected = {
    .name = "antimetal_textfile_files_rejected",
    .help = "Text files skipped this cycle (bad syntax, duplicate series, conflicting types).",
    .type = AM_METRIC_GAUGE,
};

struct textfile_state {
	struct am_simple_state base;
	struct {
		char name[256];
		long long mtime;
	} warned[MAX_WARNED];
	size_t nwarned;
};

/* Log once per file version: a bad file must not fill the log every cycle. */
static void warn_once(struct textfile_state *st, const char *file, long long mt, const char *fmt,
		      const char *why, int line)
{
	size_t i;

	for (i = 0; i < st->nwarned; i++)
		if (!strcmp(st->warned[i].name, file) && st->warned[i].mtime == mt)
			return;
	if (st->nwarned < MAX_WARNED) {
		snprintf(st->warned[st->nwarned].name, sizeof(st->warned[0].name), "%s", file);
		st->warned[st->nwarned++].mtime = mt;
	}
	am_warn(fmt, st->base.roots.textfile, file, line, why);
}

/* A metric of the new file [FROM, n) that conflicts with one of earlier files [START, FROM). */
static const char *conflict(const struct am_metric_set *s, size_t start, size_t from)
{
	size_t i, j;

	for (i = from; i < s->n; i++)
		for (j = start; j < from; j++) {
			const struct am_metric_desc *a = s->items[i].desc, *b = s->items[j].desc;

			if (strcmp(a->prom, b->prom))
				continue;
			if (a->type != b->type || a->prom_untyped != b->prom_untyped)
				return "a metric with another type than in an earlier file";
			if (am_metric_same_labels(&s->items[i], &s->items[j]))
				return "a series an earlier file already has";
		}
	return NULL;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int textfile_collect(void *state, struct am_metric_set *out)
{
	struct textfile_state *st = state;
	const char *dir = st->base.roots.textfile;
	char *names[MAX_FILES], path[1024];
	size_t n = 0, i, start = out->n;
	int bad = 0;
	struct dirent *de;
	DIR *d;

	if (!*dir) {
		am_metric_add(out, &scrape_error, 0, NULL);
		return 0;
	}
	d = opendir(dir);
	if (!d) {
		if (!st->base.warned)
			am_warn("textfile: cannot open %s: %s", dir, strerror(errno));
		st->base.warned = true;
		am_metric_add(out, &scrape_error, 1, NULL);
		return 0;
	}
	st->base.warned = false;
	while ((de = readdir(d)) && n < MAX_FILES) {
		size_t len = strlen(de->d_name);

		if (len > 5 && !strcmp(de->d_name + len - 5, ".prom") && de->d_name[0] != '.')
			names[n++] = strdup(de->d_name);
		if (n && !names[n - 1])
			n--;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), by_name);
	for (i = 0; i < n; i++) {
		size_t from = out->n, owned = out->nowned;
		const char *why = NULL;
		struct stat sb;
		int line = 0, err;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		/* A FIFO or device named *.prom would block the loop on open: regular files only.
		 */
		err = stat(path, &sb) ? -errno : !S_ISREG(sb.st_mode) ? -EINVAL : 0;
		if (!err)
			err = am_file_read(path, MAX_BYTES, &st->base.buf);
		if (err) {
			warn_once(st, names[i], 0, "textfile: %s/%s: cannot read (line %d): %s",
				  err == -EINVAL ? "not a regular file" : strerror(-err), 0);
			bad++;
			continue;
		}
		err =
		    am_parse_textfile(st->base.buf.data ? st->base.buf.data : "", out, &why, &line);
		if (!err && (why = conflict(out, start, from)) != NULL) {
			am_metric_set_truncate(out, from);
			am_metric_set_drop_owned(out, owned);
			err = -EINVAL;
		}
		if (err) {
			warn_once(st, names[i], (long long)sb.st_mtime,
				  "textfile: %s/%s:%d: %s: file skipped", why ? why : "", line);
			bad++;
			continue;
		}
		am_metric_add(out, &mtime, (double)sb.st_mtime, "file", names[i], NULL);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	am_metric_add(out, &scrape_error, bad > 0, NULL);
	am_metric_add(out, &rejected, bad, NULL);
	return 0;
}

static int textfile_init(void **state, const struct am_collect_roots *roots)
{
	struct textfile_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	am_roots_store(&st->base.roots, roots);
	*state = st;
	return 0;
}

const struct am_collector am_collector_textfile = {
    .name = "textfile",
    .init = textfile_init,
    .collect = textfile_collect,
    .destroy = am_simple_destroy,
    .node = {"textfile"},
};
