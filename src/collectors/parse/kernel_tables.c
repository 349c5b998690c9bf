/* Small /proc tables node_exporter reads: file-nr, softnet_stat, nf_conntrack stats, the UDP
 * socket table's queues, the ARP table. Pure text in, numbers out. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "collectors/parse/parse_util.h"
#include "collectors/parse/parsers.h"

static int fail(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return -EINVAL;
}

int am_parse_file_nr(const char *text, uint64_t *allocated, uint64_t *maximum, const char **why)
{
	const char *p = text;
	uint64_t a, unused, m;

	if (am_parse_u64(&p, &a) || am_parse_u64(&p, &unused) || am_parse_u64(&p, &m) ||
	    !am_at_eol(p))
		return fail(why, "expected 'ALLOCATED UNUSED MAXIMUM'");
	*allocated = a;
	*maximum = m;
	return 0;
}

/* A hex column: "0000012a". */
static int parse_hex(const char **pp, uint64_t *v)
{
	const char *p = am_skip_blank(*pp);
	uint64_t x = 0;
	int digits = 0;

	for (;; p++, digits++) {
		int d;

		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			break;
		if (digits == 16)
			return -EINVAL;
		x = x << 4 | (uint64_t)d;
	}
	if (!digits || (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != ':'))
		return -EINVAL;
	*v = x;
	*pp = p;
	return 0;
}

int am_parse_softnet(const char *text, struct am_softnet_cpu *out, size_t max, size_t *n,
		     const char **why)
{
	const char *line;
	size_t i = 0;

	for (line = text; line && *line; line = am_next_line(line)) {
		const char *p = line;
		uint64_t col[3], rest;

		if (am_at_eol(line))
			continue;
		/* Since 2.6 at least nine columns; the first three are what node_exporter 1.5
		 * serves. */
		if (parse_hex(&p, &col[0]) || parse_hex(&p, &col[1]) || parse_hex(&p, &col[2]))
			return fail(why, "a line has fewer than three hex columns");
		while (!am_at_eol(p))
			if (parse_hex(&p, &rest))
				return fail(why, "a column is not hex");
		if (i == max)
			return fail(why, "more CPU lines than expected");
		out[i].processed = col[0];
		out[i].dropped = col[1];
		out[i].time_squeeze = col[2];
		i++;
	}
	if (!i)
		return fail(why, "empty");
	*n = i;
	return 0;
}

int am_parse_conntrack_stat(const char *text, const char *const *names, size_t n, uint64_t *sums,
			    uint64_t *present, const char **why)
{
	int which[64];
	const char *line = text, *p = text;
	char tok[64];
	size_t ncols = 0, i;
	int lines = 0;

	memset(sums, 0, n * sizeof(*sums));
	*present = 0;
	while (am_next_token(&p, tok, sizeof(tok))) {
		if (ncols == 64)
			return fail(why, "more than 64 columns");
		which[ncols] = -1;
		for (i = 0; i < n && i < 64; i++)
			if (!strcmp(tok, names[i])) {
				which[ncols] = (int)i;
				*present |= 1ull << i;
			}
		ncols++;
	}
	if (!ncols)
		return fail(why, "no header line");
	for (line = am_next_line(line); line && *line; line = am_next_line(line)) {
		if (am_at_eol(line))
			continue;
		p = line;
		for (i = 0; i < ncols; i++) {
			uint64_t v;

			if (parse_hex(&p, &v))
				return fail(why,
					    "a line has fewer hex values than the header names");
			if (which[i] >= 0)
				sums[which[i]] += v;
		}
		if (!am_at_eol(p))
			return fail(why, "a line has more values than the header names");
		lines++;
	}
	if (!lines)
		return fail(why, "no per-CPU lines");
	return 0;
}

int am_parse_udp_queues(const char *text, uint64_t *tx, uint64_t *rx, const char **why)
{
	const char *line = text;
	uint64_t t = 0, r = 0;

	if (strncmp(am_skip_blank(line), "sl ", 3) || !strstr(line, "tx_queue"))
		return fail(why, "missing the header line naming tx_queue");
	for (line = am_next_line(line); line && *line; line = am_next_line(line)) {
		const char *p = line;
		char tok[128];
		uint64_t a, b;
		int i;

		if (am_at_eol(line))
			continue;
		/* sl local_address rem_address st tx_queue:rx_queue ... */
		if (!am_next_token(&p, tok, sizeof(tok)) ||
		    strspn(tok, "0123456789") + 1 != strlen(tok) || tok[strlen(tok) - 1] != ':')
			return fail(why, "a socket line does not start with 'N:'");
		for (i = 1; i < 4; i++)
			if (!am_next_token(&p, tok, sizeof(tok)))
				return fail(why, "a socket line lacks its queue column");
		if (parse_hex(&p, &a) || *p != ':' || (p++, parse_hex(&p, &b)))
			return fail(why, "the queue column is not 'TX:RX' in hex");
		t += a;
		r += b;
	}
	*tx = t;
	*rx = r;
	return 0;
}

int am_parse_arp(const char *text, struct am_metric_set *out, const char **why)
{
	static const struct am_metric_desc desc = {
	    .prom = "node_arp_entries",
	    .help = "ARP entries by device",
	    .type = AM_METRIC_GAUGE,
	    .labels = {"device"},
	};
	char devs[64][32];
	size_t counts[64] = {0}, ndev = 0, i, mark = out->n;
	const char *line = text;
	char buf[32];

	if (strncmp(line, "IP address", 10))
		return fail(why, "missing the 'IP address ...' header line");
	for (line = am_next_line(line); line && *line; line = am_next_line(line)) {
		const char *p = line;
		char tok[64];
		int f;

		if (am_at_eol(line))
			continue;
		/* IP HWtype Flags HWaddress Mask Device */
		for (f = 0; f < 6; f++)
			if (!am_next_token(&p, tok, sizeof(tok)))
				return fail(why, "an entry has fewer than six columns");
		for (i = 0; i < ndev && strcmp(devs[i], tok); i++)
			;
		if (i == ndev) {
			if (ndev == 64 || strlen(tok) >= sizeof(devs[0]))
				return fail(why, "too many devices or a device name too long");
			strcpy(devs[ndev++], tok);
		}
		counts[i]++;
	}
	for (i = 0; i < ndev; i++) {
		snprintf(buf, sizeof(buf), "%s", devs[i]);
		am_metric_add(out, &desc, (double)counts[i], "device", buf, NULL);
	}
	if (out->oom) {
		am_metric_set_truncate(out, mark);
		return -ENOMEM;
	}
	return 0;
}
