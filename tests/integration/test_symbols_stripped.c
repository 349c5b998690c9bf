/* Names for stripped binaries: a copy of the hot workload stripped by binutils, then given its
 * symbols back each way a distribution does (MiniDebugInfo, a debug file by build-id, a
 * .gnu_debuglink next to it or in .debug/, elfutils' debuginfod server on loopback), run and
 * symbolized through am_usym. Needs binutils and xz (and debuginfod for its tests): skipped
 * with the reason when they are missing. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "symbolize/usym.h"
#include "http_get.h"
#include "testutil.h"

#define HOT AM_TEST_BUILD_DIR "/tests/workloads/hot"

static bool have(const char *tool)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tool);
	return system(cmd) == 0;
}

static void need_tools(const char *extra)
{
	const char *tools[] = {"objcopy", "strip", "nm", "xz", extra};

	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
		if (tools[i] && !have(tools[i]))
			cr_skip_test("skipped: %s is not installed", tools[i]);
}

static void sh(const char *fmt, const char *dir)
{
	char cmd[8192];

	snprintf(cmd, sizeof(cmd), fmt, dir, dir, dir, dir, dir, dir, dir, dir);
	cr_assert_eq(system(cmd), 0, "failed: %s", cmd);
}

/* hot_a's address in the file (nm of the unstripped original). */
static unsigned long hot_a_vaddr(void)
{
	unsigned long v = 0;
	char line[256];
	FILE *p = popen("nm " HOT, "r");

	cr_assert_not_null(p);
	while (fgets(line, sizeof(line), p))
		if (strstr(line, " T hot_a\n"))
			v = strtoul(line, NULL, 16);
	pclose(p);
	cr_assert_neq(v, 0, "no hot_a in " HOT);
	return v;
}

/* Run BIN, symbolize hot_a inside it with U and return the name found (NULL: unknown);
 * *BID gets the running file's build-id. */
static char *name_of_hot_a(struct am_usym *u, const char *bin, char bid[41])
{
	char *argv[] = {(char *)bin, "0", NULL}, path[64], line[4608];
	unsigned long start, pgoff, base = 0;
	struct am_usym_result r;
	unsigned char ehdr[18];
	char *name = NULL;
	FILE *f;
	pid_t pid = am_test_start_quiet(argv);

	cr_assert_eq(am_usym_snapshot(u, (uint32_t)pid, 0), 0);
	f = fopen(bin, "rb");
	cr_assert(f && fread(ehdr, 1, sizeof(ehdr), f) == sizeof(ehdr));
	fclose(f);
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	while (ehdr[16] == 3 /* ET_DYN: loaded at a bias */ && f && fgets(line, sizeof(line), f))
		if (strstr(line, bin) && sscanf(line, "%lx-%*x %*s %lx", &start, &pgoff) == 2 &&
		    pgoff == 0 && !base)
			base = start;
	if (f)
		fclose(f);
	cr_assert_eq(am_usym_resolve(u, (uint32_t)pid, 0, base + hot_a_vaddr() + 4, false, &r), 0);
	cr_assert_not_null(r.map);
	snprintf(bid, 41, "%s", r.map->build_id);
	if (r.func)
		name = strdup(r.func);
	am_test_reap(pid);
	return name;
}

/* DIR/bin: HOT with every symbol stripped, and DIR/full.debug: its debug file. */
static char *stripped_copy(const char *tag)
{
	char *dir = am_test_mkdtemp(tag);

	cr_assert_not_null(dir);
	sh("objcopy --only-keep-debug " HOT " %s/full.debug && strip --strip-all -o %s/bin " HOT,
	   dir);
	return dir;
}

static void expect_hot_a(const char *dir, const char *bin, const char *debuginfo_path)
{
	struct am_usym *u = am_usym_new(NULL, NULL);
	char path[4096], bid[41], *name;

	cr_assert_not_null(u);
	cr_assert_eq(am_usym_set_debuginfo_path(u, debuginfo_path), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, bin);
	name = name_of_hot_a(u, path, bid);
	cr_assert_not_null(name, "%s: hot_a unknown (debuginfo path %s)", path,
			   debuginfo_path ? debuginfo_path : "default");
	cr_assert_str_eq(name, "hot_a");
	free(name);
	am_usym_free(u);
}

Test(symbols_stripped, stripped_alone_has_no_name)
{
	char bid[41], bin[4200], *name, *dir;
	struct am_usym *u;

	need_tools(NULL);
	dir = stripped_copy("strip");
	u = am_usym_new(NULL, NULL);
	snprintf(bin, sizeof(bin), "%s/bin", dir);
	name = name_of_hot_a(u, bin, bid);
	/* The control: a static function of an executable is in no .dynsym. */
	cr_assert(!name || strcmp(name, "hot_a"), "stripped binary still named hot_a");
	cr_assert_eq(strlen(bid), 40, "build-id '%s'", bid);
	free(name);
	am_usym_free(u);
	am_test_rmtree(dir);
	free(dir);
}

Test(symbols_stripped, minidebuginfo)
{
	char *dir;

	need_tools(NULL);
	dir = stripped_copy("mini");
	/* The recipe of GDB's manual (MiniDebugInfo): the function symbols .dynsym lacks, in an
	 * xz-compressed ELF in section .gnu_debugdata. */
	sh("cd %s && nm -D " HOT
	   " --format=posix --defined-only | awk '{print $1}' | sort > dyn && "
	   "nm " HOT " --format=posix --defined-only | awk '$2 ~ /[Tt]/ {print $1}' | sort > fn && "
	   "comm -13 dyn fn > keep && "
	   "objcopy -S --remove-section .gdb_index --remove-section .comment "
	   "--keep-symbols=keep full.debug mini && xz mini && "
	   "objcopy --add-section .gnu_debugdata=mini.xz bin",
	   dir);
	expect_hot_a(dir, "bin", NULL);
	am_test_rmtree(dir);
	free(dir);
}

Test(symbols_stripped, debug_file_by_build_id)
{
	struct am_usym *u = am_usym_new(NULL, NULL);
	char bid[41], cmd[8192], dbg[4200], *name, *dir;

	need_tools(NULL);
	dir = stripped_copy("bid");
	snprintf(dbg, sizeof(dbg), "%s/bin", dir);
	free(name_of_hot_a(u, dbg, bid));
	am_usym_free(u);
	cr_assert_eq(strlen(bid), 40);
	snprintf(
	    cmd, sizeof(cmd),
	    "mkdir -p %s/root/.build-id/%.2s && mv %s/full.debug %s/root/.build-id/%.2s/%s.debug",
	    dir, bid, dir, dir, bid, bid + 2);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	snprintf(dbg, sizeof(dbg), ":.debug:%s/root", dir);
	expect_hot_a(dir, "bin", dbg);
	/* Also through the environment, as the agent takes it. */
	setenv("ANTIMETAL_DEBUGINFO_PATH", dbg, 1);
	u = am_usym_new(NULL, NULL);
	snprintf(dbg, sizeof(dbg), "%s/bin", dir);
	name = name_of_hot_a(u, dbg, bid);
	unsetenv("ANTIMETAL_DEBUGINFO_PATH");
	cr_assert(name && !strcmp(name, "hot_a"), "env path: got %s", name ? name : "unknown");
	free(name);
	am_usym_free(u);
	am_test_rmtree(dir);
	free(dir);
}

Test(symbols_stripped, gnu_debuglink_beside_and_in_dot_debug)
{
	char *dir;

	need_tools(NULL);
	dir = stripped_copy("link");
	sh("cd %s && mkdir -p side dot/.debug && cp bin side/hot && cp full.debug side/hot.debug "
	   "&& "
	   "objcopy --add-gnu-debuglink=side/hot.debug side/hot && cp side/hot dot/hot && "
	   "mv side/hot.debug dot/.debug/hot.debug && cp dot/.debug/hot.debug side/",
	   dir);
	expect_hot_a(dir, "side/hot", NULL);
	expect_hot_a(dir, "dot/hot", NULL);
	am_test_rmtree(dir);
	free(dir);
}

Test(symbols_stripped, debuginfod_on_loopback, .timeout = 120)
{
	char port_s[16], url[64], db[4200], srv[4200], bin[4200], cmd[8192], bid[41], *name, *dir;
	struct am_usym *u = am_usym_new(NULL, NULL);
	pid_t server;
	int i;

	need_tools("debuginfod");
	if (access("/usr/bin/debuginfod", X_OK))
		cr_skip_test("skipped: debuginfod is not /usr/bin/debuginfod");
	dir = stripped_copy("dbgd");
	snprintf(bin, sizeof(bin), "%s/bin", dir);
	free(name_of_hot_a(u, bin, bid));
	am_usym_free(u);
	sh("mkdir -p %s/srv %s/cache && mv %s/full.debug %s/srv/hot.debug", dir);
	snprintf(port_s, sizeof(port_s), "%d", am_http_free_port());
	snprintf(db, sizeof(db), "%s/index.sqlite", dir);
	snprintf(srv, sizeof(srv), "%s/srv", dir);
	{
		char *argv[] = {"/usr/bin/debuginfod", "-p", port_s, "-d", db, "-F", srv, NULL};
		struct am_test_spawn_opts o = {.out = "/dev/null", .err = "/dev/null"};

		server = am_test_spawn_opts(argv, &o);
	}
	cr_assert_gt(server, 0, "debuginfod did not start");
	snprintf(url, sizeof(url), "http://127.0.0.1:%s", port_s);
	setenv("DEBUGINFOD_URLS", url, 1);
	snprintf(db, sizeof(db), "%s/cache", dir);
	setenv("DEBUGINFOD_CACHE_PATH", db, 1);
	/* The server indexes its directory in the background: ask until it answers, each time
	 * with a new cache (a client remembers a miss for 10 minutes). */
	for (i = 0; i < 300; i++) {
		snprintf(
		    cmd, sizeof(cmd),
		    "DEBUGINFOD_CACHE_PATH=%s/probe%d debuginfod-find debuginfo %s >/dev/null 2>&1",
		    dir, i, bid);
		if (system(cmd) == 0)
			break;
		am_test_sleep_ms(100);
	}
	cr_assert_lt(i, 300, "debuginfod never served build-id %s", bid);
	u = am_usym_new(NULL, NULL);
	name = name_of_hot_a(u, bin, bid);
	am_usym_free(u);
	am_test_reap(server);
	cr_assert(name && !strcmp(name, "hot_a"), "through debuginfod: got %s",
		  name ? name : "unknown");
	free(name);
	/* Fetched once, then kept in the on-disk cache. */
	snprintf(cmd, sizeof(cmd), "test -s %s/cache/%s/debuginfo", dir, bid);
	cr_assert_eq(system(cmd), 0, "no cached debuginfo under %s/cache", dir);
	unsetenv("DEBUGINFOD_URLS");
	unsetenv("DEBUGINFOD_CACHE_PATH");
	am_test_rmtree(dir);
	free(dir);
}

/* A server that accepts connections and never answers: the lookup gives up after
 * DEBUGINFOD_TIMEOUT and the frame stays unknown. */
Test(symbols_stripped, debuginfod_dead_server_times_out, .timeout = 60)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	char url[64], cache[4200], bin[4200], bid[41], *name, *dir;
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct am_usym *u;
	double t0, took;

	need_tools(NULL);
	cr_assert_geq(s, 0);
	cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(s, 16), 0);
	cr_assert_eq(getsockname(s, (struct sockaddr *)&a, &len), 0);
	dir = stripped_copy("dead");
	snprintf(bin, sizeof(bin), "%s/bin", dir);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(a.sin_port));
	snprintf(cache, sizeof(cache), "%s/cache", dir);
	setenv("DEBUGINFOD_URLS", url, 1);
	unsetenv("DEBUGINFOD_TIMEOUT");
	unsetenv("DEBUGINFOD_RETRY_LIMIT");
	am_usym_debuginfod_defaults(cache, 2);
	cr_assert_str_eq(getenv("DEBUGINFOD_TIMEOUT"), "2");
	cr_assert_str_eq(getenv("DEBUGINFOD_CACHE_PATH"), cache);
	u = am_usym_new(NULL, NULL);
	t0 = am_test_now_s();
	name = name_of_hot_a(u, bin, bid);
	took = am_test_now_s() - t0;
	am_usym_free(u);
	close(s);
	cr_assert(!name || strcmp(name, "hot_a"));
	cr_assert_lt(took, 2 + 3.0, "symbolizing took %.1f s with a 2 s timeout", took);
	cr_log_info("dead debuginfod server: %.2f s", took);
	free(name);
	unsetenv("DEBUGINFOD_URLS");
	unsetenv("DEBUGINFOD_CACHE_PATH");
	unsetenv("DEBUGINFOD_TIMEOUT");
	unsetenv("DEBUGINFOD_RETRY_LIMIT");
	am_test_rmtree(dir);
	free(dir);
}
