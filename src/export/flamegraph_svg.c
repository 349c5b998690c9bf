#include "export/flamegraph_svg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define WIDTH	1200.0
#define PAD	10.0
#define FRAME_H 16
#define FONT	11
#define MIN_W	0.3 /* narrower frames are not drawn (their samples still count above) */

struct node {
	char *name;
	bool kernel;
	uint64_t count;
	struct node **kids;
	size_t nkids, cap;
};

static struct node *child(struct node *n, const char *name, bool kernel)
{
	struct node *c;
	size_t i;

	for (i = 0; i < n->nkids; i++)
		if (n->kids[i]->kernel == kernel && !strcmp(n->kids[i]->name, name))
			return n->kids[i];
	if (n->nkids == n->cap) {
		size_t cap = n->cap ? n->cap * 2 : 4;
		struct node **nk = realloc(n->kids, cap * sizeof(*nk));

		if (!nk)
			return NULL;
		n->kids = nk;
		n->cap = cap;
	}
	c = calloc(1, sizeof(*c));
	if (!c || !(c->name = strdup(name))) {
		free(c);
		return NULL;
	}
	c->kernel = kernel;
	n->kids[n->nkids++] = c;
	return c;
}

static void free_tree(struct node *n)
{
	size_t i;

	for (i = 0; i < n->nkids; i++)
		free_tree(n->kids[i]);
	free(n->kids);
	free(n->name);
	free(n);
}

static int cmp_node(const void *a, const void *b)
{
	return strcmp((*(struct node *const *)a)->name, (*(struct node *const *)b)->name);
}

static void put_escaped(struct am_strbuf *b, const char *s, size_t max)
{
	size_t n = 0;

	for (; *s && n < max; s++, n++) {
		switch (*s) {
		case '<':
			am_strbuf_puts(b, "&lt;");
			break;
		case '>':
			am_strbuf_puts(b, "&gt;");
			break;
		case '&':
			am_strbuf_puts(b, "&amp;");
			break;
		case '"':
			am_strbuf_puts(b, "&quot;");
			break;
		default:
			/* Control bytes are not allowed in XML 1.0. */
			am_strbuf_putc(b, (unsigned char)*s < 0x20 ? '?' : *s);
		}
	}
	if (*s)
		am_strbuf_puts(b, "..");
}

/* Warm colours for user code, orange-ish for the kernel, stable per name. */
static void color(const char *name, bool kernel, int *r, int *g, int *bl)
{
	unsigned h = 2166136261u;

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 16777619u;
	if (kernel) {
		*r = 220 + (int)(h % 35);
		*g = 130 + (int)((h >> 8) % 60);
		*bl = 30 + (int)((h >> 16) % 40);
	} else {
		*r = 205 + (int)(h % 50);
		*g = 60 + (int)((h >> 8) % 130);
		*bl = 40 + (int)((h >> 16) % 40);
	}
}

static void draw(struct am_strbuf *b, struct node *n, double x, int depth, int maxdepth,
		 double scale, uint64_t total)
{
	double w = (double)n->count * scale, cx = x;
	int r, g, bl;
	size_t i;
	double y = PAD * 3 + (double)(maxdepth - depth) * FRAME_H;

	if (w < MIN_W)
		return;
	color(n->name, n->kernel, &r, &g, &bl);
	am_strbuf_puts(b, "<g><title>");
	put_escaped(b, n->name, 4096);
	am_strbuf_printf(b, " (%llu samples, %.2f%%)</title>", (unsigned long long)n->count,
			 total ? 100.0 * (double)n->count / (double)total : 0.0);
	am_strbuf_printf(b,
			 "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" "
			 "fill=\"rgb(%d,%d,%d)\" rx=\"2\"/>",
			 x, y, w, FRAME_H - 1, r, g, bl);
	if (w > 3 * FONT) {
		am_strbuf_printf(b, "<text x=\"%.1f\" y=\"%.1f\">", x + 3, y + FRAME_H - 4.5);
		put_escaped(b, n->name, (size_t)((w - 6) / (FONT * 0.59)));
		am_strbuf_puts(b, "</text>");
	}
	am_strbuf_puts(b, "</g>\n");
	if (n->nkids > 1)
		qsort(n->kids, n->nkids, sizeof(*n->kids), cmp_node);
	for (i = 0; i < n->nkids; i++) {
		draw(b, n->kids[i], cx, depth + 1, maxdepth, scale, total);
		cx += (double)n->kids[i]->count * scale;
	}
}

int am_flamegraph_svg_render(const struct am_profile *prof, const char *title,
			     struct am_strbuf *out)
{
	struct node *root = calloc(1, sizeof(*root)), *n;
	char label[512];
	int maxdepth = 0, height;
	size_t i, j;
	int err = 0;

	if (!root || !(root->name = strdup("all"))) {
		free(root);
		return -ENOMEM;
	}
	for (i = 0; i < prof->nstacks && !err; i++) {
		const struct am_profile_stack *st = &prof->stacks[i];

		root->count += st->count;
		n = child(root, st->comm[0] ? st->comm : "[unknown]", false);
		for (j = st->nframes; n && j > 0; j--) {
			n->count += st->count;
			n = child(n,
				  am_profile_frame_label(&st->frames[j - 1], label, sizeof(label)),
				  st->frames[j - 1].kernel);
		}
		if (!n)
			err = -ENOMEM;
		else
			n->count += st->count;
		if ((int)st->nframes + 2 > maxdepth)
			maxdepth = (int)st->nframes + 2;
	}
	if (err) {
		free_tree(root);
		return err;
	}
	height = (int)(PAD * 4) + maxdepth * FRAME_H;
	am_strbuf_printf(out,
			 "<?xml version=\"1.0\" standalone=\"no\"?>\n"
			 "<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\" "
			 "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n"
			 "<style>text{font-family:monospace;font-size:%dpx;fill:#000;"
			 "pointer-events:none}rect:hover{stroke:#000;stroke-width:0.5}</style>\n"
			 "<rect width=\"100%%\" height=\"100%%\" fill=\"#f8f8f0\"/>\n"
			 "<text x=\"%.0f\" y=\"%.0f\" style=\"font-size:15px\">",
			 (int)WIDTH, height, (int)WIDTH, height, FONT, PAD, PAD * 2);
	put_escaped(out, title ? title : "CPU profile", 200);
	am_strbuf_printf(out, " (%s, %llu samples)</text>\n", prof->event,
			 (unsigned long long)root->count);
	if (root->count)
		draw(out, root, PAD, 0, maxdepth - 1, (WIDTH - 2 * PAD) / (double)root->count,
		     root->count);
	am_strbuf_puts(out, "</svg>\n");
	free_tree(root);
	return out->oom ? -ENOMEM : 0;
}
