/*
 * fuzz_config: hh_config_load() over a hostile configuration file, with an empty
 * environment.
 *
 * The input is written to a file in a private temporary directory (libgit2's config reader
 * wants a path), loaded as the full and as the receiver's configuration, and the loaded
 * values are used as the rest of healhook uses them. The input as a C string also goes
 * through hh_argv_template() and the duration, size and boolean parsers. Properties: a
 * loaded configuration's repositories have names and compiled allow patterns; an argv
 * template that splits has at least one word.
 */
#include "fuzz/fuzz.h"
#include "internal/config.h"

#include <fcntl.h>
#include <unistd.h>

static char *conf_path;

/* The file the inputs are written to, created once per process (removed at exit). */
static void remove_conf(void)
{
	char *dir;

	if (!conf_path)
		return;
	unlink(conf_path);
	dir = strdup(conf_path);
	if (dir && strrchr(dir, '/')) {
		*strrchr(dir, '/') = '\0';
		rmdir(dir);
	}
	free(dir);
}

static const char *conf_file(void)
{
	static char dir[] = "/tmp/hh-fuzz-config.XXXXXX";

	if (conf_path)
		return conf_path;
	if (!mkdtemp(dir))
		abort();
	conf_path = malloc(sizeof(dir) + 16);
	if (!conf_path)
		abort();
	snprintf(conf_path, sizeof(dir) + 16, "%s/healhook.conf", dir);
	atexit(remove_conf);
	return conf_path;
}

static void write_file(const char *path, const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t off = 0;

	if (fd < 0)
		abort();
	while (off < size) {
		ssize_t n = write(fd, data + off, size - off);
		if (n <= 0)
			abort();
		off += (size_t)n;
	}
	close(fd);
}

static void use_config(const hh_config *cfg)
{
	size_t i, k;

	for (i = 0; i < cfg->nrepos; i++) {
		const hh_repo_config *r = &cfg->repos[i];

		FUZZ_ASSERT(r->name != NULL);
		FUZZ_ASSERT(hh_config_repo(cfg, r->name) != NULL);
		FUZZ_ASSERT(r->allow.n == 0 || r->allow_re != NULL);
		hh_repo_allows(r, "services/order_service.py");
		hh_repo_allows(r, "../etc/passwd");
		hh_config_require(cfg, "repo.health-url", r->health_url);
		for (k = 0; k < r->reviewers.n; k++)
			FUZZ_ASSERT(r->reviewers.v[k] != NULL);
	}
	hh_config_require(cfg, "server.listen", cfg->listen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *const envp[] = {NULL};
	const char *path = conf_file();
	char *text = fuzz_cstr(data, size);
	const char *vars[] = {"file", "a b.py", "prompt", "fix it", NULL};
	hh_config *cfg = NULL;
	hh_strv argv = {NULL, 0};
	long secs;
	size_t bytes;
	int b;

	write_file(path, data, size);
	if (hh_config_load(&cfg, path, envp) == 0) {
		FUZZ_ASSERT(cfg != NULL);
		use_config(cfg);
		hh_config_free(cfg);
		cfg = NULL;
		if (hh_config_load_receiver(&cfg, path, envp) == 0) {
			FUZZ_ASSERT(cfg->gitea_token == NULL && cfg->telegram_token == NULL);
			use_config(cfg);
		}
	}
	hh_config_free(cfg);
	if (hh_argv_template(&argv, text, vars) == 0)
		FUZZ_ASSERT(argv.n >= 1);
	hh_strv_release(&argv);
	hh_parse_duration(text, &secs);
	hh_parse_size(text, &bytes);
	hh_parse_bool(text, &b);
	free(text);
	return 0;
}
