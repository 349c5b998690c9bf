#include "cli/cli_opts.h"

#include <getopt.h>
#include <stdarg.h>
#include <string.h>

#include "cli/cli_common.h"
#include "cli/commands.h"

/* Room for the largest table (run's) with its aliases and --help. */
#define MAX_LONGOPTS 48
/* Help text starts at this column at most; longer option names put it on the next line. */
#define HELP_COLUMN_MAX 26
#define HELP_WIDTH	90

static const struct am_opt help_opt = {
    .name = "help", .key = 'h', .type = AM_OPT_FLAG, .help = "this text"};

static void print_prog(const struct am_cmd *cmd, FILE *out)
{
	fprintf(out, "antimetal-agent%s%s", cmd->name ? " " : "", cmd->name ? cmd->name : "");
}

static void usage_line(const struct am_cmd *cmd, FILE *out)
{
	fputs("usage: ", out);
	print_prog(cmd, out);
	fprintf(out, " %s\n", cmd->synopsis);
}

int am_cli_usage_error(const struct am_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	print_prog(cmd, stderr);
	fputs(": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n", stderr);
	usage_line(cmd, stderr);
	fputs("(see '", stderr);
	print_prog(cmd, stderr);
	fputs(" --help')\n", stderr);
	return AM_EXIT_USAGE;
}

/* "-F, --freq HZ" or "    --json": the left column of the help. */
static int opt_left(const struct am_opt *o, char *buf, size_t len)
{
	int n;

	if (o->key < AM_OPT_LONG)
		n = snprintf(buf, len, "  -%c, --%s", o->key, o->name);
	else
		n = snprintf(buf, len, "      --%s", o->name);
	if (o->arg && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, " %s", o->arg);
	return n;
}

/* "(1 to 256, default 64)", "(default 10)" or "" from the table's limits and defaults. */
static void opt_suffix(const struct am_opt *o, char *buf, size_t len)
{
	bool range = o->flags & AM_OPT_SHOW_RANGE, dflt = o->flags & AM_OPT_SHOW_DEFAULT;
	size_t n = 0;

	buf[0] = '\0';
	if (!range && !dflt)
		return;
	n += (size_t)snprintf(buf, len, " (");
	if (range && o->type == AM_OPT_UINT)
		n +=
		    (size_t)snprintf(buf + n, len - n, "%llu to %llu%s", (unsigned long long)o->min,
				     (unsigned long long)o->max, dflt ? ", " : "");
	else if (range && o->type == AM_OPT_REAL)
		n += (size_t)snprintf(buf + n, len - n, "at most %g%s", o->fmax, dflt ? ", " : "");
	if (dflt && o->type == AM_OPT_UINT)
		n +=
		    (size_t)snprintf(buf + n, len - n, "default %llu", (unsigned long long)o->dflt);
	else if (dflt && o->type == AM_OPT_REAL)
		n += (size_t)snprintf(buf + n, len - n, "default %g", o->fdflt);
	else if (dflt)
		n += (size_t)snprintf(buf + n, len - n, "default %s", o->sdflt ? o->sdflt : "none");
	if (n < len)
		snprintf(buf + n, len - n, ")");
}

static void print_opt(const struct am_opt *o, int col, FILE *out)
{
	char left[128], suffix[96];
	const char *line = o->help, *nl;
	int n = opt_left(o, left, sizeof(left));

	opt_suffix(o, suffix, sizeof(suffix));
	fputs(left, out);
	if (n >= col - 1) {
		fputc('\n', out);
		n = 0;
	}
	for (;;) {
		int len;

		nl = strchr(line, '\n');
		len = nl ? (int)(nl - line) : (int)strlen(line);
		fprintf(out, "%*s%.*s", col - n, "", len, line);
		if (!nl) {
			/* the defaults and limits go on a line of their own when too long */
			if (col + len + (int)strlen(suffix) > HELP_WIDTH && len)
				fprintf(out, "\n%*s", col - 1, "");
			break;
		}
		fputc('\n', out);
		line = nl + 1;
		n = 0;
	}
	fprintf(out, "%s\n", suffix);
}

void am_cli_help(const struct am_cmd *cmd, FILE *out)
{
	char left[128];
	const struct am_opt *o;
	int col, n;

	usage_line(cmd, out);
	if (cmd->about)
		fprintf(out, "\n%s\n", cmd->about);
	fputc('\n', out);
	col = opt_left(&help_opt, left, sizeof(left)) + 2;
	for (o = cmd->opts; o && o->name; o++) {
		n = opt_left(o, left, sizeof(left)) + 2;
		if (!(o->flags & AM_OPT_HIDDEN) && n > col && n <= HELP_COLUMN_MAX)
			col = n;
	}
	for (o = cmd->opts; o && o->name; o++)
		if (!(o->flags & AM_OPT_HIDDEN))
			print_opt(o, col, out);
	print_opt(&help_opt, col, out);
	if (cmd->footer)
		fprintf(out, "\n%s\n", cmd->footer);
	if (cmd->more)
		cmd->more(out);
}

static const struct am_opt *find_key(const struct am_cmd *cmd, int key)
{
	const struct am_opt *o;

	for (o = cmd->opts; o && o->name; o++)
		if (o->key == key)
			return o;
	return key == 'h' ? &help_opt : NULL;
}

static void add_long(struct option *lo, size_t *n, const char *name, const struct am_opt *o)
{
	lo[*n] = (struct option){name, o->type == AM_OPT_FLAG ? no_argument : required_argument,
				 NULL, o->key};
	(*n)++;
}

/* getopt_long's tables from CMD's: ":" first so a missing value is told apart. */
static int build_tables(const struct am_cmd *cmd, struct option *lo, char *shorts, size_t slen)
{
	const struct am_opt *o;
	size_t n = 0, s = 0;

	shorts[s++] = ':';
	for (o = cmd->opts; o && o->name; o++) {
		if (n + 3 >= MAX_LONGOPTS || s + 3 >= slen)
			return -1;
		add_long(lo, &n, o->name, o);
		if (o->alias)
			add_long(lo, &n, o->alias, o);
		if (o->key < AM_OPT_LONG) {
			shorts[s++] = (char)o->key;
			if (o->type != AM_OPT_FLAG)
				shorts[s++] = ':';
		}
	}
	add_long(lo, &n, "help", &help_opt);
	shorts[s++] = 'h';
	shorts[s] = '\0';
	lo[n] = (struct option){0};
	return 0;
}

/* The option named as the user knows it from the help: "--max-args". */
static int bad_value(const struct am_cmd *cmd, const struct am_opt *o, const char *arg)
{
	if (o->type == AM_OPT_UINT)
		return am_cli_usage_error(cmd, "--%s: '%s' is not a whole number from %llu to %llu",
					  o->name, arg, (unsigned long long)o->min,
					  (unsigned long long)o->max);
	return am_cli_usage_error(cmd, "--%s: '%s' is not a %snumber of %s (at most %g)", o->name,
				  arg, o->flags & AM_OPT_POSITIVE ? "positive " : "",
				  o->unit ? o->unit : "seconds", o->fmax);
}

static int convert(const struct am_cmd *cmd, const struct am_opt *o, const char *arg,
		   struct am_opt_value *v)
{
	*v = (struct am_opt_value){.str = o->type == AM_OPT_FLAG ? NULL : arg};
	switch (o->type) {
	case AM_OPT_UINT:
		if (am_cli_parse_u64(arg, o->max, &v->u) || v->u < o->min)
			return bad_value(cmd, o, arg);
		break;
	case AM_OPT_REAL:
		if (am_cli_parse_double(arg, o->fmax, &v->f) ||
		    (v->f == 0 && (o->flags & AM_OPT_POSITIVE)))
			return bad_value(cmd, o, arg);
		break;
	case AM_OPT_FLAG:
	case AM_OPT_STRING:
		break;
	}
	return 0;
}

/* Unknown option or missing value: name it as typed, or as the table knows it. */
static int getopt_error(const struct am_cmd *cmd, int c, char **argv)
{
	const struct am_opt *o = optopt ? find_key(cmd, optopt) : NULL;

	if (c == ':')
		return o ? am_cli_usage_error(cmd, "option '--%s' needs an argument", o->name)
			 : am_cli_usage_error(cmd, "option '%s' needs an argument",
					      argv[optind - 1]);
	if (optopt && optopt < AM_OPT_LONG)
		return am_cli_usage_error(cmd, "unknown option '-%c'", optopt);
	return am_cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
}

int am_cli_parse(const struct am_cmd *cmd, int argc, char **argv, am_opt_set_fn set, void *ctx,
		 int *first)
{
	struct option lo[MAX_LONGOPTS];
	char shorts[2 * MAX_LONGOPTS];
	struct am_opt_value v;
	int c, rc;

	if (build_tables(cmd, lo, shorts, sizeof(shorts)))
		return am_cli_usage_error(cmd, "internal error: option table too large");
	/* 0 rather than 1: glibc then also forgets an option cluster ("-Tx") an earlier parse in
	 * this process stopped inside (the unit tests parse many command lines) */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		const struct am_opt *o = find_key(cmd, c);

		if (c == '?' || c == ':' || !o)
			return getopt_error(cmd, c, argv);
		if (o == &help_opt) {
			am_cli_help(cmd, stdout);
			return AM_CLI_HELP;
		}
		rc = convert(cmd, o, optarg, &v);
		if (!rc)
			rc = set(ctx, o, &v);
		if (rc)
			return rc;
	}
	if (!cmd->operands && optind < argc)
		return am_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	*first = optind;
	return 0;
}
