/* exec_latency: read `antimetal-agent execsnoop --json` lines on stdin and measure, for every
 * exec of MARKER (its filename as passed), the time from the exec's return in the kernel
 * (ret_ts_ns, CLOCK_MONOTONIC) to the line reaching this consumer. At EOF prints one line:
 * "marker_execs=N p50_us=.. p99_us=.. max_us=.. events=E drops=D".
 * usage: exec_latency MARKER < lines */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static unsigned long long field(const char *line, const char *key)
{
	const char *p = strstr(line, key);

	return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	char needle[4200], *line = NULL;
	size_t cap = 0, n = 0, alloc = 0;
	double *lat = NULL;
	unsigned long long events = 0, drops = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: exec_latency MARKER < execsnoop-json-lines\n");
		return 2;
	}
	snprintf(needle, sizeof(needle), "\"filename\":\"%s\"", argv[1]);
	while (getline(&line, &cap, stdin) > 0) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		if (strstr(line, "\"type\":\"exec\"") && strstr(line, needle)) {
			double now = (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;

			if (n == alloc) {
				alloc = alloc ? alloc * 2 : 4096;
				lat = realloc(lat, alloc * sizeof(*lat));
				if (!lat)
					return 1;
			}
			lat[n++] = (now - (double)field(line, "\"ret_ts_ns\":")) / 1e3;
		} else if (strstr(line, "\"type\":\"stats\"") && strstr(line, "\"final\":true")) {
			events = field(line, "\"events\":");
			drops = field(line, "\"drops\":");
		}
	}
	if (n)
		qsort(lat, n, sizeof(*lat), cmp);
	printf("marker_execs=%zu p50_us=%.1f p99_us=%.1f max_us=%.1f events=%llu drops=%llu\n", n,
	       n ? lat[n / 2] : 0.0, n ? lat[(n * 99) / 100] : 0.0, n ? lat[n - 1] : 0.0, events,
	       drops);
	free(lat);
	free(line);
	return 0;
}
