/*
 * Unit-test runner: see t.h.
 */
#include "tests/unit/t.h"

#include <stdlib.h>

struct t_case {
	const char *name;
	t_fn fn;
};

static struct t_case cases[1024];
static int ncases;
int t_failed_now;

void t_register(const char *name, t_fn fn)
{
	if (ncases < (int)(sizeof(cases) / sizeof(cases[0])))
		cases[ncases++] = (struct t_case){name, fn};
}

void t_fail(const char *file, int line, const char *expr)
{
	fprintf(stderr, "    %s:%d: check failed: %s\n", file, line, expr);
	t_failed_now = 1;
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0, i;

	for (i = 0; i < ncases; i++) {
		if (argc > 1 && !strstr(cases[i].name, argv[1]))
			continue;
		t_failed_now = 0;
		cases[i].fn();
		if (t_failed_now) {
			failed++;
			printf("not ok - %s\n", cases[i].name);
		} else {
			passed++;
			printf("ok - %s\n", cases[i].name);
		}
		fflush(stdout);
	}
	printf("unit: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
