/* OOM workload: touches anonymous memory 1 MiB at a time up to MAX_MIB (argv[1], default
 * 4096) and then sleeps, so that in a memory cgroup with a smaller limit the OOM killer picks
 * it. Every page is written: untouched pages would not be charged. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long max_mib = argc > 1 ? atol(argv[1]) : 4096, i;

	for (i = 0; i < max_mib; i++) {
		char *p = malloc(1 << 20);

		if (!p)
			return 2;
		memset(p, (int)(i & 0xff) | 1, 1 << 20);
	}
	pause();
	return 0;
}
