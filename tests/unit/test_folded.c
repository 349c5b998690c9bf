/* Folded and SVG renderings of a hand-built profile: order, merging, escaping, unknown frames. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/ebpf/profiler.h"
#include "export/flamegraph_svg.h"
#include "export/folded.h"

static struct am_profile_frame fr(const char *func, const char *module, bool kernel)
{
	struct am_profile_frame f = {.addr = 0x1000,
				     .func = strdup(func),
				     .module = strdup(module),
				     .mapping = -1,
				     .kernel = kernel};
	return f;
}

/* Stacks are leaf first. */
static void add(struct am_profile *p, const char *comm, uint64_t count, int n,
		struct am_profile_frame *frames)
{
	struct am_profile_stack *s;

	p->stacks = realloc(p->stacks, (p->nstacks + 1) * sizeof(*p->stacks));
	s = &p->stacks[p->nstacks++];
	memset(s, 0, sizeof(*s));
	strncpy(s->comm, comm, sizeof(s->comm) - 1);
	s->count = count;
	s->nframes = (size_t)n;
	s->frames = calloc((size_t)n, sizeof(*s->frames));
	memcpy(s->frames, frames, (size_t)n * sizeof(*frames));
	p->total += count;
}

static void sample_profile(struct am_profile *p)
{
	memset(p, 0, sizeof(*p));
	strcpy(p->event, "cpu-clock");
	add(p, "hot", 30, 2,
	    (struct am_profile_frame[]){fr("hot_a", "/bin/hot", false),
					fr("main", "/bin/hot", false)});
	add(p, "hot", 10, 2,
	    (struct am_profile_frame[]){fr("hot_b", "/bin/hot", false),
					fr("main", "/bin/hot", false)});
	/* Same labels as the first stack (another address in hot_a): merged with it. */
	add(p, "hot", 5, 2,
	    (struct am_profile_frame[]){fr("hot_a", "/bin/hot", false),
					fr("main", "/bin/hot", false)});
	add(p, "sys", 7, 3,
	    (struct am_profile_frame[]){fr("vfs_read", "[kernel.kallsyms]", true),
					fr("[unknown]", "/usr/lib/libweird.so.1", false),
					fr("a;b", "/bin/sys", false)});
	add(p, "idle", 2, 1, (struct am_profile_frame[]){fr("[unknown]", "", false)});
}

Test(folded, lines_sorted_merged_and_escaped)
{
	struct am_profile p;
	struct am_strbuf b = {0};

	sample_profile(&p);
	cr_assert_eq(am_folded_render(&p, &b), 0);
	cr_assert_str_eq(b.data, "hot;main;hot_a 35\n"
				 "hot;main;hot_b 10\n"
				 "idle;[unknown] 2\n"
				 "sys;a:b;[unknown] (libweird.so.1);vfs_read 7\n");
	am_strbuf_free(&b);
	am_profile_free(&p);
}

#define CID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* The container prefix: the container id, the cgroup path outside containers, the cgroup's id
 * where the path is unknown; the same stack in two containers stays two lines. */
Test(folded, container_prefix_splits_stacks_by_container)
{
	struct am_profile p;
	struct am_strbuf b = {0};

	sample_profile(&p);
	strcpy(p.stacks[0].container_id, CID);
	p.stacks[0].cgroup = strdup("/system.slice/docker-" CID ".scope");
	p.stacks[1].cgroup = strdup("/user.slice/a;b");
	p.stacks[3].cgroup_id = 5;
	p.stacks[4].cgroup = strdup("/");
	cr_assert_eq(am_folded_render_prefixed(&p, AM_FOLDED_PREFIX_CONTAINER, &b), 0);
	cr_assert_str_eq(b.data, "/;idle;[unknown] 2\n"
				 "/user.slice/a:b;hot;main;hot_b 10\n" CID ";hot;main;hot_a 30\n"
				 "[cgroup 5];sys;a:b;[unknown] (libweird.so.1);vfs_read 7\n"
				 "[unknown cgroup];hot;main;hot_a 5\n");
	am_strbuf_reset(&b);
	cr_assert_eq(am_folded_render_prefixed(&p, AM_FOLDED_PREFIX_NONE, &b), 0);
	cr_assert(!strncmp(b.data, "hot;main;hot_a 35\n", 18), "%s", b.data);
	am_strbuf_free(&b);
	am_profile_free(&p);
}

Test(folded, empty_profile_renders_nothing)
{
	struct am_profile p = {0};
	struct am_strbuf b = {0};

	cr_assert_eq(am_folded_render(&p, &b), 0);
	cr_assert_eq(b.len, 0);
}

Test(folded, svg_is_a_self_contained_document)
{
	struct am_profile p;
	struct am_strbuf b = {0};

	sample_profile(&p);
	cr_assert_eq(am_flamegraph_svg_render(&p, "t<1>", &b), 0);
	cr_assert(!strncmp(b.data, "<?xml", 5));
	cr_assert(strstr(b.data, "t&lt;1&gt; (cpu-clock, 54 samples)"), "%s", b.data);
	cr_assert(strstr(b.data, "<title>all (54 samples, 100.00%)</title>"));
	cr_assert(strstr(b.data, "<title>hot_a (35 samples, 64.81%)</title>"), "%s", b.data);
	cr_assert(strstr(b.data, "<title>main (45 samples, 83.33%)</title>"));
	/* No script and no external reference: it must display on its own. */
	cr_assert_null(strstr(b.data, "<script"));
	cr_assert_null(strstr(b.data, "href"));
	cr_assert(strstr(b.data, "</svg>\n"));
	am_strbuf_free(&b);
	am_profile_free(&p);
}
