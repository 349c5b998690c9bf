/* Parser of /proc/cpuinfo (see parsers.h). */
#include "collectors/parse/parsers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/parse/parse_util.h"

struct cpu_block {
	char cpu[16], package[16], core[16], vendor[64], family[16], model[16], model_name[128],
	    stepping[16];
	int has_processor;
};

/* Truncating copy: inventory strings longer than their field are cut, not rejected. */
static void copy(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* "key\t: value" -> KEY and VALUE views; returns 0 or -EINVAL. */
static int cpuinfo_kv(const char *line, char *key, size_t keylen, char *val, size_t vallen)
{
	const char *colon = line, *v, *e;
	size_t n;

	while (*colon && *colon != ':' && *colon != '\n')
		colon++;
	if (*colon != ':')
		return -EINVAL;
	e = colon;
	while (e > line && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	n = (size_t)(e - line);
	if (n == 0 || n >= keylen)
		return -EINVAL;
	memcpy(key, line, n);
	key[n] = '\0';
	v = am_skip_blank(colon + 1);
	for (e = v; *e && *e != '\n'; e++)
		;
	n = (size_t)(e - v);
	if (n >= vallen)
		n = vallen - 1;
	memcpy(val, v, n);
	val[n] = '\0';
	return 0;
}

static void emit_cpu(const struct cpu_block *b, struct am_metric_set *out)
{
	am_metric_add(out, "antimetal_cpu_info", "Logical CPU inventory (/proc/cpuinfo).",
		      AM_METRIC_GAUGE, 1, "cpu", b->cpu, "package", b->package, "core", b->core,
		      "vendor", b->vendor, "family", b->family, "model", b->model, "model_name",
		      b->model_name, "stepping", b->stepping, NULL);
}

int am_parse_cpuinfo(const char *text, struct am_metric_set *out, const char **why)
{
	struct cpu_block b = {0};
	size_t mark = out->n;
	const char *line;
	int cpus = 0;

	for (line = text; line; line = am_next_line(line)) {
		char key[64], val[256];

		if (am_at_eol(line)) {
			if (b.has_processor) {
				emit_cpu(&b, out);
				cpus++;
			}
			memset(&b, 0, sizeof(b));
			if (!*line)
				break;
			continue;
		}
		if (cpuinfo_kv(line, key, sizeof(key), val, sizeof(val)))
			goto bad;
		if (!strcmp(key, "processor")) {
			const char *p = val;
			uint64_t id;

			/* A second processor line without a blank line ends the block too. */
			if (b.has_processor) {
				emit_cpu(&b, out);
				cpus++;
				memset(&b, 0, sizeof(b));
			}
			if (am_parse_u64(&p, &id) || *p || id > 1u << 20)
				goto bad;
			snprintf(b.cpu, sizeof(b.cpu), "%u", (unsigned)id);
			b.has_processor = 1;
		} else if (!strcmp(key, "vendor_id")) {
			copy(b.vendor, sizeof(b.vendor), val);
		} else if (!strcmp(key, "cpu family")) {
			copy(b.family, sizeof(b.family), val);
		} else if (!strcmp(key, "model")) {
			copy(b.model, sizeof(b.model), val);
		} else if (!strcmp(key, "model name")) {
			copy(b.model_name, sizeof(b.model_name), val);
		} else if (!strcmp(key, "stepping")) {
			copy(b.stepping, sizeof(b.stepping), val);
		} else if (!strcmp(key, "physical id")) {
			copy(b.package, sizeof(b.package), val);
		} else if (!strcmp(key, "core id")) {
			copy(b.core, sizeof(b.core), val);
		}
	}
	if (b.has_processor) {
		emit_cpu(&b, out);
		cpus++;
	}
	if (!cpus) {
		if (why)
			*why = "no 'processor' line";
		am_metric_set_truncate(out, mark);
		return -EINVAL;
	}
	return 0;
bad:
	if (why)
		*why = "expected 'key : value' lines with a numeric processor";
	am_metric_set_truncate(out, mark);
	return -EINVAL;
}
