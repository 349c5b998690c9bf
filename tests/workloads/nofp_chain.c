/* A known call chain built without frame pointers (-O2 -fomit-frame-pointer, see the Makefile),
 * so only the binaries' CFI can unwind it: main -> chain_a -> chain_b -> chain_c -> chain_leaf,
 * directly ("direct", the default), through the system libc's qsort, whose comparator enters
 * the chain ("qsort"), or from a SIGALRM handler that interrupts main_spin ("signal"). The leaf
 * spins until killed, after writing "ready\n" to stdout once. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static volatile unsigned long sink;
static volatile int done;

__attribute__((noinline)) unsigned long chain_leaf(unsigned long x)
{
	static int announced;

	if (!announced) {
		announced = 1;
		if (write(1, "ready\n", 6) != 6)
			_exit(1);
	}
	/* DONE is never set: the loop is not provably endless, so the callers keep their
	 * returns and are not turned into tail calls. */
	while (!done)
		sink += x * 7 + 1;
	return sink;
}

/* Work after each call keeps the calls from becoming tail jumps. */
__attribute__((noinline)) unsigned long chain_c(unsigned long x)
{
	unsigned long r = chain_leaf(x + 3);

	return r ^ (x << 2);
}

__attribute__((noinline)) unsigned long chain_b(unsigned long x)
{
	unsigned long r = chain_c(x * 5);

	return r + (x >> 1);
}

__attribute__((noinline)) unsigned long chain_a(unsigned long x)
{
	unsigned long r = chain_b(x + 11);

	return r - x;
}

static int cmp(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	sink += chain_a(x ^ y);
	return x < y ? -1 : x > y;
}

static void on_alarm(int sig)
{
	sink += chain_a((unsigned long)sig);
}

/* Spins until SIGALRM interrupts it (the handler never returns). */
__attribute__((noinline)) void main_spin(void)
{
	while (!done)
		sink++;
}

int main(int argc, char **argv)
{
	unsigned long v[4] = {4, 3, 2, 1};

	if (argc > 1 && !strcmp(argv[1], "signal")) {
		struct itimerval t = {.it_value = {.tv_usec = 20000}};

		signal(SIGALRM, on_alarm);
		setitimer(ITIMER_REAL, &t, NULL);
		main_spin();
		return 0;
	}

	if (argc > 1 && !strcmp(argv[1], "qsort")) {
		qsort(v, 4, sizeof(v[0]), cmp);
		return (int)(v[0] & 1);
	}
	return (int)(chain_a((unsigned long)argc) & 1);
}
