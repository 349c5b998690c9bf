/* The kernel log's OOM-killer lines. The formats are those of mm/oom_kill.c
 * (__oom_kill_process, dump_oom_victim) and mm/memcontrol.c (mem_cgroup_print_oom_meminfo);
 * a comm may hold any byte but NUL and newline, so it is delimited from the far side. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "collectors/parse/parse_util.h"
#include "collectors/parse/parsers.h"

static int why_bad(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return -EINVAL;
}

static void copy_span(char *dst, size_t dstlen, const char *src, size_t len)
{
	if (len >= dstlen)
		len = dstlen - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* "NAME:NUMkB" at *P (after optional ", " or " "), advancing *P. */
static int take_kb(const char **p, const char *name, uint64_t *v)
{
	size_t n = strlen(name);

	while (**p == ',' || **p == ' ')
		(*p)++;
	if (strncmp(*p, name, n))
		return -EINVAL;
	*p += n;
	if (am_parse_u64(p, v))
		return -EINVAL;
	if (!strncmp(*p, "kB", 2))
		*p += 2;
	return 0;
}

int am_parse_oom_killed_line(const char *msg, struct am_oom_kmsg *out, const char **why)
{
	const char *p = strstr(msg, "out of memory: Killed process ");
	const char *open, *close;
	uint64_t v;
	int64_t adj;

	if (!p)
		p = strstr(msg, "Out of memory: Killed process ");
	if (!p)
		return -ENOENT;
	p += strlen("out of memory: Killed process ");
	if (am_parse_u64(&p, &v) || v == 0 || v > INT32_MAX || strncmp(p, " (", 2))
		return why_bad(why, "expected 'Killed process PID (COMM)'");
	out->pid = (int32_t)v;
	open = p + 2;
	close = strstr(open, ") total-vm:");
	if (!close)
		return why_bad(why, "expected ') total-vm:' after the command name");
	copy_span(out->comm, sizeof(out->comm), open, (size_t)(close - open));
	p = close + 1;
	if (take_kb(&p, "total-vm:", &out->total_vm_kb) ||
	    take_kb(&p, "anon-rss:", &out->anon_rss_kb) ||
	    take_kb(&p, "file-rss:", &out->file_rss_kb) ||
	    take_kb(&p, "shmem-rss:", &out->shmem_rss_kb))
		return why_bad(why, "expected total-vm, anon-rss, file-rss and shmem-rss in kB");
	out->have_figures = 1;
	/* UID, pgtables and oom_score_adj arrived later (4.19, 5.0): optional, but not garbled. */
	while (*p == ',' || *p == ' ')
		p++;
	if (!strncmp(p, "UID:", 4)) {
		p += 4;
		if (am_parse_u64(&p, &v) || v > UINT32_MAX)
			return why_bad(why, "bad UID");
		out->uid = (uint32_t)v;
		out->have_uid = 1;
	}
	p = am_skip_blank(p);
	if (!strncmp(p, "pgtables:", 9) && take_kb(&p, "pgtables:", &out->pgtables_kb))
		return why_bad(why, "bad pgtables");
	p = am_skip_blank(p);
	if (!strncmp(p, "oom_score_adj:", 14)) {
		p += 14;
		if (am_parse_i64(&p, &adj) || adj < -1000 || adj > 1000)
			return why_bad(why, "bad oom_score_adj");
		out->oom_score_adj = (int)adj;
	}
	return 0;
}

/* The value of ",KEY=" in [S, END): its start and length, the value ending at the next comma
 * (or at END). */
static const char *field(const char *s, const char *end, const char *key, size_t *len)
{
	size_t n = strlen(key);
	const char *p = s, *v, *comma;

	while ((p = strstr(p, key)) && p < end) {
		if (p == s || p[-1] == ',' || p[-1] == ':') {
			v = p + n;
			comma = memchr(v, ',', (size_t)(end - v));
			*len = (size_t)((comma ? comma : end) - v);
			return v;
		}
		p += n;
	}
	return NULL;
}

int am_parse_oom_kill_line(const char *msg, struct am_oom_kmsg *out, const char **why)
{
	const char *s = strstr(msg, "oom-kill:"), *end, *v, *pid_at, *task_at;
	size_t len;
	uint64_t n;

	if (!s)
		return -ENOENT;
	s += strlen("oom-kill:");
	end = s + strlen(s);
	while (end > s && (end[-1] == '\n' || end[-1] == ' '))
		end--;
	/* Read from the end: uid and pid are numbers; task= is the comm, which may hold commas. */
	pid_at = NULL;
	for (v = end; v > s; v--)
		if (!strncmp(v, ",pid=", 5)) {
			pid_at = v;
			break;
		}
	task_at = NULL;
	for (v = pid_at ? pid_at : s; pid_at && v > s; v--)
		if (!strncmp(v, ",task=", 6)) {
			task_at = v;
			break;
		}
	if (!pid_at || !task_at)
		return why_bad(why, "expected ',task=COMM,pid=PID' in the oom-kill line");
	v = pid_at + 5;
	if (am_parse_u64(&v, &n) || n == 0 || n > INT32_MAX)
		return why_bad(why, "bad pid in the oom-kill line");
	out->pid = (int32_t)n;
	if (!strncmp(v, ",uid=", 5)) {
		v += 5;
		if (am_parse_u64(&v, &n) || n > UINT32_MAX)
			return why_bad(why, "bad uid in the oom-kill line");
		out->uid = (uint32_t)n;
		out->have_uid = 1;
	}
	copy_span(out->comm, sizeof(out->comm), task_at + 6, (size_t)(pid_at - task_at - 6));
	v = field(s, task_at, "constraint=", &len);
	if (v)
		copy_span(out->constraint, sizeof(out->constraint), v, len);
	v = field(s, task_at, "task_memcg=", &len);
	if (v) {
		/* The memcg path runs to ",task=": it may contain commas itself. */
		copy_span(out->task_memcg, sizeof(out->task_memcg), v, (size_t)(task_at - v));
	}
	return 0;
}

int am_parse_oom_memcg_limit_line(const char *msg, uint64_t *limit_kb, const char **why)
{
	const char *p = msg;
	uint64_t usage;

	if (strncmp(p, "memory: usage ", 14))
		return -ENOENT;
	p += 14;
	if (am_parse_u64(&p, &usage) || strncmp(p, "kB, limit ", 10))
		return why_bad(why, "expected 'memory: usage NkB, limit NkB'");
	p += 10;
	if (am_parse_u64(&p, limit_kb) || strncmp(p, "kB", 2))
		return why_bad(why, "expected 'limit NkB'");
	return 0;
}

int am_oom_kmsg_feed(struct am_oom_kmsg_pairer *p, const char *msg, struct am_oom_kmsg *out)
{
	struct am_oom_kmsg k = {0};
	uint64_t limit_kb;
	int rc;

	rc = am_parse_oom_memcg_limit_line(msg, &limit_kb, NULL);
	if (rc == 0) {
		/* A new OOM's report begins: what an earlier one left unfinished is dropped. */
		memset(&p->cur, 0, sizeof(p->cur));
		p->cur.have_limit = 1;
		p->cur.limit_kb = limit_kb;
		return 0;
	}
	if (rc == -EINVAL)
		p->garbled++;
	rc = am_parse_oom_kill_line(msg, &k, NULL);
	if (rc == 0) {
		strcpy(p->cur.constraint, k.constraint);
		strcpy(p->cur.task_memcg, k.task_memcg);
		strcpy(p->cur.comm, k.comm);
		p->cur.pid = k.pid;
		p->cur.uid = k.uid;
		p->cur.have_uid = k.have_uid;
		return 0;
	}
	if (rc == -EINVAL)
		p->garbled++;
	rc = am_parse_oom_killed_line(msg, &k, NULL);
	if (rc == -EINVAL)
		p->garbled++;
	if (rc)
		return 0;
	/* The summary belongs to this kill only when it named the same pid. */
	if (p->cur.pid == k.pid) {
		strcpy(k.constraint, p->cur.constraint);
		strcpy(k.task_memcg, p->cur.task_memcg);
		if (!k.have_uid) {
			k.uid = p->cur.uid;
			k.have_uid = p->cur.have_uid;
		}
	}
	/* The limit line is printed for memcg OOMs only; a stale one must not stick to another. */
	k.have_limit =
	    p->cur.have_limit && (!k.constraint[0] || !strcmp(k.constraint, "CONSTRAINT_MEMCG"));
	k.limit_kb = k.have_limit ? p->cur.limit_kb : 0;
	memset(&p->cur, 0, sizeof(p->cur));
	*out = k;
	return 1;
}
