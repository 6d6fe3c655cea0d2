/*
 * The default check of a .py file (internal/fixer.h HH_PY_CHECK), run by the real python3 as
 * the host would run it: a good file passes, a syntax error, a wrong encoding and a NUL byte
 * fail with "FILE:LINE: KIND: MESSAGE", a name no shell would pass through is an argument, and
 * no .pyc is left beside the file (py_compile writes one).
 */
#include "internal/fixer.h"
#include "t.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct ran {
	int status;
	char err[512];
};

/* Runs the default check of file in dir; its stderr in r->err. */
static int run_check(const char *dir, const char *file, struct ran *r)
{
	hh_strv argv = {0};
	int fd[2];
	pid_t pid;
	ssize_t n, len = 0;

	if (hh_check_argv(&argv, NULL, file) < 0 || argv.n == 0 || pipe(fd) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(fd[1], 2);
		close(fd[0]);
		if (chdir(dir) == 0)
			execvp(argv.v[0], argv.v);
		_exit(127);
	}
	close(fd[1]);
	while ((n = read(fd[0], r->err + len, sizeof(r->err) - 1 - len)) > 0)
		len += n;
	r->err[len] = '\0';
	close(fd[0]);
	hh_strv_release(&argv);
	if (pid < 0 || waitpid(pid, &r->status, 0) != pid)
		return -1;
	r->status = WIFEXITED(r->status) ? WEXITSTATUS(r->status) : 128;
	return 0;
}

static void put(const char *dir, const char *name, const char *text, size_t len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f) {
		fwrite(text, 1, len, f);
		fclose(f);
	}
}

#define PUT(dir, name, lit) put(dir, name, lit, sizeof(lit) - 1)

TEST(fixer_default_python_check)
{
	char dir[] = "/tmp/hh-check-XXXXXX", path[256];
	struct ran r;
	struct stat st;
	hh_strv none = {0};

	REQUIRE(mkdtemp(dir));
	REQUIRE(hh_check_argv(&none, NULL, "README.md") == 0);
	CHECK(none.n == 0);

	PUT(dir, "ok.py", "def total(xs):\n    return sum(xs)\n");
	REQUIRE(run_check(dir, "ok.py", &r) == 0);
	CHECK(r.status == 0);
	CHECK_STR(r.err, "");

	PUT(dir, "bad.py", "def total(xs):\n    return sum(xs\n\nprint(1)\n");
	REQUIRE(run_check(dir, "bad.py", &r) == 0);
	CHECK(r.status == 1);
	CHECK(strncmp(r.err, "bad.py:2: SyntaxError: ", 23) == 0);

	/* a coding cookie is honoured (latin-1 bytes pass), and a file that breaks it fails */
	PUT(dir, "latin.py", "# -*- coding: latin-1 -*-\nname = '\xe9t\xe9'\n");
	REQUIRE(run_check(dir, "latin.py", &r) == 0);
	CHECK(r.status == 0);
	PUT(dir, "utf8.py", "name = '\xe9t\xe9'\n");
	REQUIRE(run_check(dir, "utf8.py", &r) == 0);
	CHECK(r.status == 1);
	CHECK(strstr(r.err, "utf8.py:") == r.err);

	put(dir, "nul.py", "x = 1\0\n", 7);
	REQUIRE(run_check(dir, "nul.py", &r) == 0);
	CHECK(r.status == 1);
	CHECK(strstr(r.err, "nul.py:") == r.err);

	/* a name that is an option to python and a shell's metacharacters: only an argument */
	PUT(dir, "-c;touch pwned.py", "x = 1\n");
	REQUIRE(run_check(dir, "-c;touch pwned.py", &r) == 0);
	CHECK(r.status == 0);
	snprintf(path, sizeof(path), "%s/pwned.py", dir);
	CHECK(stat(path, &st) < 0);

	REQUIRE(run_check(dir, "missing.py", &r) == 0);
	CHECK(r.status == 1);
	CHECK(strstr(r.err, "missing.py:0: FileNotFoundError: ") == r.err);

	snprintf(path, sizeof(path), "%s/__pycache__", dir);
	CHECK(stat(path, &st) < 0);

	snprintf(path, sizeof(path), "rm -rf -- '%s'", dir);
	CHECK(system(path) == 0);
}
