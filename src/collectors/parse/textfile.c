/* The Prometheus text exposition format, as node_exporter's textfile collector accepts it. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/parse/parse_util.h"
#include "collectors/parse/parsers.h"

struct family {
	const struct am_metric_desc *desc;
	int has_type, has_samples;
};

struct ctx {
	struct am_metric_set *out;
	struct family *fam;
	size_t nfam, capfam;
	const char *why;
};

static int is_name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}

static int is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

/* Copy the metric (or, with COLON 0, label) name at *P into OUT. */
static int name(const char **pp, char *out, size_t len, int colon)
{
	const char *p = *pp;
	size_t n = 0;

	if (!is_name_start(*p) || (!colon && *p == ':'))
		return -EINVAL;
	while (is_name_char(*p) && (colon || *p != ':')) {
		if (n + 1 >= len)
			return -EINVAL;
		out[n++] = *p++;
	}
	out[n] = '\0';
	*pp = p;
	return 0;
}

static struct family *find(struct ctx *c, const char *n)
{
	size_t i;

	for (i = 0; i < c->nfam; i++)
		if (!strcmp(c->fam[i].desc->prom, n))
			return &c->fam[i];
	return NULL;
}

/* A new family NAME, its descriptor (strings inside the one allocation) owned by the set. */
static struct family *add_family(struct ctx *c, const char *n)
{
	struct am_metric_desc *d;
	size_t len = strlen(n) + 1;

	if (c->nfam == c->capfam) {
		size_t cap = c->capfam ? c->capfam * 2 : 16;
		struct family *f = realloc(c->fam, cap * sizeof(*f));

		if (!f)
			return NULL;
		c->fam = f;
		c->capfam = cap;
	}
	d = calloc(1, sizeof(*d) + len);
	if (!d)
		return NULL;
	memcpy(d + 1, n, len);
	d->prom = (const char *)(d + 1);
	d->help = "";
	d->type = AM_METRIC_GAUGE;
	d->prom_untyped = 1;
	if (!am_metric_set_own_desc(c->out, d))
		return NULL;
	c->fam[c->nfam] = (struct family){.desc = d};
	return &c->fam[c->nfam++];
}

/* Replace F's descriptor by a copy with HELP or TYPE set (the old one stays owned, unused). */
static int amend(struct ctx *c, struct family *f, const char *help, int type, int untyped)
{
	const struct am_metric_desc *o = f->desc;
	size_t nlen = strlen(o->prom) + 1, hlen = strlen(help ? help : o->help) + 1;
	struct am_metric_desc *d = calloc(1, sizeof(*d) + nlen + hlen);
	char *s;

	if (!d)
		return -ENOMEM;
	*d = *o;
	s = (char *)(d + 1);
	memcpy(s, o->prom, nlen);
	memcpy(s + nlen, help ? help : o->help, hlen);
	d->prom = s;
	d->help = s + nlen;
	if (type >= 0) {
		d->type = (enum am_metric_type)type;
		d->prom_untyped = (unsigned)untyped;
	}
	if (!am_metric_set_own_desc(c->out, d))
		return -ENOMEM;
	f->desc = d;
	return 0;
}

static int comment(struct ctx *c, const char *p)
{
	char n[256], word[16];
	struct family *f;
	int help;

	p = am_skip_blank(p + 1);
	if (strncmp(p, "HELP ", 5) && strncmp(p, "TYPE ", 5))
		return 0; /* a plain comment */
	help = p[0] == 'H';
	p = am_skip_blank(p + 5);
	if (name(&p, n, sizeof(n), 1) || (*p != ' ' && *p != '\t' && !(help && am_at_eol(p)))) {
		c->why = "a HELP or TYPE line without a valid metric name";
		return -EINVAL;
	}
	f = find(c, n);
	if (!f && !(f = add_family(c, n)))
		return -ENOMEM;
	p = am_skip_blank(p);
	if (help) {
		char text[1024];
		size_t k = 0;

		for (; *p && *p != '\n' && k + 1 < sizeof(text); p++) {
			if (*p == '\\' && (p[1] == 'n' || p[1] == '\\')) {
				text[k++] = p[1] == 'n' ? '\n' : '\\';
				p++;
			} else {
				text[k++] = *p;
			}
		}
		text[k] = '\0';
		return amend(c, f, text, -1, 0);
	}
	if (f->has_type || f->has_samples) {
		c->why = f->has_type ? "a second TYPE line for a metric"
				     : "a TYPE line after the metric's samples";
		return -EINVAL;
	}
	if (!am_next_token(&p, word, sizeof(word)) || !am_at_eol(p)) {
		c->why = "a TYPE line without exactly one type";
		return -EINVAL;
	}
	f->has_type = 1;
	if (!strcmp(word, "counter"))
		return amend(c, f, NULL, AM_METRIC_COUNTER, 0);
	if (!strcmp(word, "gauge"))
		return amend(c, f, NULL, AM_METRIC_GAUGE, 0);
	if (!strcmp(word, "untyped"))
		return amend(c, f, NULL, AM_METRIC_GAUGE, 1);
	c->why = !strcmp(word, "histogram") || !strcmp(word, "summary")
		     ? "histogram and summary metrics are not supported in text files yet"
		     : "an unknown TYPE";
	return -EINVAL;
}

static int value(const char **pp, double *v)
{
	const char *p = am_skip_blank(*pp);
	char tok[64];
	char *end;

	if (!am_next_token(&p, tok, sizeof(tok)))
		return -EINVAL;
	if (!strcmp(tok, "NaN"))
		*v = NAN;
	else if (!strcmp(tok, "+Inf"))
		*v = INFINITY;
	else if (!strcmp(tok, "-Inf"))
		*v = -INFINITY;
	else {
		*v = strtod(tok, &end);
		if (*end || end == tok || !strcasecmp(tok, "nan") || !strcasecmp(tok, "inf") ||
		    !strcasecmp(tok, "infinity") || !strcasecmp(tok, "-inf"))
			return -EINVAL;
	}
	*pp = p;
	return 0;
}

/* Label values of one sample: {a="x",b="y"}. Names point into NAMES, values into VALS. */
static int labels(const char **pp, char names[][128], char vals[][1024], int *n)
{
	const char *p = *pp + 1;
	int k = 0, j;

	for (;;) {
		size_t len = 0;

		p = am_skip_blank(p);
		if (*p == '}')
			break;
		if (k == AM_METRIC_MAX_LABELS || name(&p, names[k], sizeof(names[k]), 0))
			return -EINVAL;
		p = am_skip_blank(p);
		if (*p++ != '=' || (p = am_skip_blank(p), *p++ != '"'))
			return -EINVAL;
		for (; *p && *p != '"' && *p != '\n'; p++) {
			char ch = *p;

			if (ch == '\\') {
				p++;
				if (*p == 'n')
					ch = '\n';
				else if (*p == '\\' || *p == '"')
					ch = *p;
				else
					return -EINVAL;
			}
			if (len + 1 >= sizeof(vals[k]))
				return -EINVAL;
			vals[k][len++] = ch;
		}
		if (*p++ != '"')
			return -EINVAL;
		vals[k][len] = '\0';
		for (j = 0; j < k; j++)
			if (!strcmp(names[j], names[k]))
				return -EINVAL;
		k++;
		p = am_skip_blank(p);
		if (*p == ',')
			p++;
		else if (*p != '}')
			return -EINVAL;
	}
	*pp = p + 1;
	*n = k;
	return 0;
}

int am_metric_same_labels(const struct am_metric *a, const struct am_metric *b)
{
	int i, j;

	if (a->nlabels != b->nlabels)
		return 0;
	for (i = 0; i < a->nlabels; i++) {
		for (j = 0; j < b->nlabels; j++)
			if (!strcmp(a->labels[i].name, b->labels[j].name))
				break;
		if (j == b->nlabels || strcmp(a->labels[i].value, b->labels[j].value))
			return 0;
	}
	return 1;
}

static int sample(struct ctx *c, const char *p, size_t first)
{
	char names[AM_METRIC_MAX_LABELS][128], vals[AM_METRIC_MAX_LABELS][1024];
	struct am_metric *m;
	struct family *f;
	char n[256];
	int nl = 0, i;
	size_t k;
	double v;

	if (name(&p, n, sizeof(n), 1)) {
		c->why = "a sample line does not start with a metric name";
		return -EINVAL;
	}
	if (*p == '{' && labels(&p, names, vals, &nl)) {
		c->why = "malformed labels (or more than the agent's 12)";
		return -EINVAL;
	}
	if (value(&p, &v)) {
		c->why = "a sample without a valid value";
		return -EINVAL;
	}
	if (!am_at_eol(p)) {
		c->why = "a client-side timestamp or trailing text after the value (not supported, "
			 "as in node_exporter)";
		return -EINVAL;
	}
	f = find(c, n);
	if (!f && !(f = add_family(c, n)))
		return -ENOMEM;
	f->has_samples = 1;
	am_metric_add(c->out, f->desc, v, NULL);
	if (c->out->oom)
		return -ENOMEM;
	m = &c->out->items[c->out->n - 1];
	/* Labels are names from this buffer: they must outlive it, so they live in the label
	 * value allocation ("name\0value"). */
	for (i = 0; i < nl; i++) {
		size_t ln = strlen(names[i]) + 1, lv = strlen(vals[i]) + 1;
		char *s = malloc(ln + lv);

		if (!s)
			return -ENOMEM;
		memcpy(s, vals[i], lv);
		memcpy(s + lv, names[i], ln);
		m->labels[i].value = s;
		m->labels[i].name = s + lv;
		m->nlabels++;
	}
	for (k = first; k + 1 < c->out->n; k++)
		if (c->out->items[k].desc->prom && !strcmp(c->out->items[k].desc->prom, n) &&
		    am_metric_same_labels(&c->out->items[k], m)) {
			c->why = "a duplicate series (same name and labels twice)";
			return -EINVAL;
		}
	return 0;
}

int am_parse_textfile(const char *text, struct am_metric_set *out, const char **why, int *line)
{
	struct ctx c = {.out = out};
	size_t mark = out->n, owned = out->nowned;
	const char *l;
	int err = 0, no = 0;

	for (l = text; l && *l && !err; l = am_next_line(l)) {
		const char *p = am_skip_blank(l);

		no++;
		if (am_at_eol(p))
			continue;
		err = *p == '#' ? comment(&c, p) : sample(&c, p, mark);
	}
	free(c.fam);
	if (err) {
		am_metric_set_truncate(out, mark);
		am_metric_set_drop_owned(out, owned);
		if (why)
			*why = err == -ENOMEM ? "out of memory" : c.why;
		if (line)
			*line = no;
	}
	return err;
}
