/* A deep stack without frame pointers (-O2 -fomit-frame-pointer, see the Makefile): main ->
 * deep(DEPTH) recursing DEPTH times (argv[1], default 300) -> a spinning leaf, until killed.
 * Deeper than the 127 frames a frame-pointer walk in BPF keeps, so --max-stack above 127 (with
 * --call-graph dwarf) and its [truncated] frame can be seen. */
#include <stdlib.h>

static volatile unsigned long sink;
static volatile int done; /* never set: the loop is not provably endless */

__attribute__((noinline)) static void leaf(void)
{
	while (!done)
		sink = sink * 3 + 1;
}

/* The work after the call keeps it from being a tail call (and the recursion a loop). */
__attribute__((noinline)) unsigned long deep(int n)
{
	if (n <= 0)
		leaf();
	else
		sink += deep(n - 1);
	return sink + (unsigned long)n;
}

int main(int argc, char **argv)
{
	return (int)(deep(argc > 1 ? atoi(argv[1]) : 300) & 1);
}
