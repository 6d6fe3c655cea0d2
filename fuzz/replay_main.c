/*
 * replay_main: a main() for the fuzz targets without libFuzzer. Every file named on the
 * command line, and every regular file directly inside a directory named there, is read and
 * given once to LLVMFuzzerTestOneInput(). A crash, a sanitizer report or a failed property
 * ends the process abnormally; otherwise it prints "replayed N inputs" and exits 0 (2 when a
 * path cannot be read). `make test` runs it over fuzz/corpus/NAME/ (tests/integration/
 * test_fuzz_corpus.py).
 */
#include "fuzz/fuzz.h"
#include "internal/buf.h"

#include <dirent.h>
#include <sys/stat.h>

static int replay_file(const char *path, size_t *count)
{
	hh_buf b = HH_BUF_INIT;

	if (hh_buf_read_file(&b, path, 0) < 0) {
		fprintf(stderr, "replay: cannot read '%s'\n", path);
		return -1;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)(b.ptr ? b.ptr : ""), b.len);
	hh_buf_release(&b);
	(*count)++;
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replays the regular files of dir in name order, so that a failure is reproducible. */
static int replay_dir(const char *dir, size_t *count)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	hh_strv names = {NULL, 0};
	size_t i;
	int rc = 0;

	if (!d) {
		fprintf(stderr, "replay: cannot open '%s'\n", dir);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (hh_strv_push(&names, e->d_name) < 0) {
			rc = -1;
			goto out;
		}
	}
	if (names.n)
		qsort(names.v, names.n, sizeof(names.v[0]), cmp_names);
	for (i = 0; i < names.n && rc == 0; i++) {
		char *path = hh_asprintf("%s/%s", dir, names.v[i]);
		struct stat st;

		if (!path) {
			rc = -1;
			break;
		}
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			rc = replay_file(path, count);
		free(path);
	}
out:
	closedir(d);
	hh_strv_release(&names);
	return rc;
}

int main(int argc, char **argv)
{
	size_t count = 0;
	int i, rc = 0;

	for (i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "replay: cannot stat '%s'\n", argv[i]);
			rc = -1;
		} else if (S_ISDIR(st.st_mode)) {
			rc |= replay_dir(argv[i], &count);
		} else {
			rc |= replay_file(argv[i], &count);
		}
	}
	printf("replayed %zu inputs\n", count);
	return rc < 0 ? 2 : 0;
}
