/*
 * Unit tests for internal/config: real files written to /tmp (mkstemp), synthetic envp arrays.
 */
#include "tests/unit/t.h"
#include "internal/config.h"
#include "internal/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Writes text to a new temp file; returns its path (static buffer per slot). */
static const char *tmpfile_with(int slot, const char *text)
{
	static char paths[4][64];
	int fd;

	snprintf(paths[slot], sizeof(paths[slot]), "/tmp/hh-config-test-XXXXXX");
	fd = mkstemp(paths[slot]);
	if (fd < 0)
		return NULL;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		close(fd);
		return NULL;
	}
	close(fd);
	return paths[slot];
}

static char *const no_env[] = {NULL};

/* Loads text as a config file with envp; returns the config or NULL (error in hh_error_last). */
static hh_config *load_text(const char *text, char *const *envp, const char **path_out)
{
	const char *path = tmpfile_with(0, text);
	hh_config *cfg = NULL;
	int rc;

	if (path_out)
		*path_out = path;
	if (!path)
		return NULL;
	rc = hh_config_load(&cfg, path, envp ? envp : no_env);
	unlink(path);
	return rc == 0 ? cfg : NULL;
}

static int err_has(const char *s)
{
	if (strstr(hh_error_last(), s))
		return 1;
	fprintf(stderr, "      error '%s' lacks '%s'\n", hh_error_last(), s);
	return 0;
}

TEST(config_full_file)
{
	char text[4096];
	const char *secret = tmpfile_with(1, "s3cr3t-value\n");
	const char *token = tmpfile_with(2, "tok\r\n");
	const hh_repo_config *r;
	hh_config *cfg;

	REQUIRE(secret && token);
	snprintf(text, sizeof(text),
		 "# healhook\n"
		 "[server]\n\tlisten = 127.0.0.1:8080\n\tsecret-file = %s\n"
		 "\tauthorization = Bearer abc\n\tmax-body = 64k\n\trecord = /tmp/rec\n"
		 "\tmax-connections = 8\n\tmax-queue = 100\n\trequest-timeout = 1m\n"
		 "\tmax-headers = 50\n"
		 "[state]\n\tdir = /var/lib/healhook\n"
		 "[gitea]\n\turl = https://gitea.example.com\n\ttoken-file = %s\n"
		 "\tuser = healhook-bot\n\ttimeout = 20s\n"
		 "[fixer]\n\tcommand = \"aider --model {model} {file}\"\n\tmodel = ollama/x:1b\n"
		 "\tollama = http://127.0.0.1:11434\n\tollama = http://127.0.0.1:11435\n"
		 "\ttimeout = 5m\n"
		 "[notify]\n\ttelegram-chat = 111\n\ttelegram-api = https://tg.example.com\n"
		 "\tgitea-comment = false\n\tlang = zh-TW\n"
		 "[log]\n\tlevel = debug\n\tformat = json\n"
		 "[repo \"Acme/Shop\"]\n\thost = ssh://deploy@fixhost.example.com:2222/srv/shop\n"
		 "\tidentity = /etc/healhook/id\n\tknown-hosts = /etc/healhook/kh\n"
		 "\tbranch = main\n\ttarget = pr-head\n\tpush-via = mirror\n"
		 "\tremote = https://gitea.example.com/acme/shop.git\n"
		 "\tallow = \"^src/[a-z]+\\\\.c$\"\n\tallow = ^docs/\n"
		 "\tmax-diff-lines = 20\n\tmax-fixes-per-hour = 3\n\tmax-reverts = 1\n"
		 "\tqueue-ttl = 2h\n\tcheck = \"python3 -m py_compile {file}\"\n"
		 "\thealth-url = https://shop.example.com/health\n\thealth-delay = 0\n"
		 "\thealth-interval = 5\n\thealth-timeout = 1m\n\thealth-failures = 4\n"
		 "\thealth-version-field = version\n\tci-wait\n"
		 "\treviewers = bob\n\treviewers = alice, ci-bot\n\tevents = "
		 "pull_request_review_rejected\n",
		 secret, token);
	cfg = load_text(text, NULL, NULL);
	unlink(secret);
	unlink(token);
	if (!cfg)
		fprintf(stderr, "      %s\n", hh_error_last());
	REQUIRE(cfg);
	CHECK_STR(cfg->listen, "127.0.0.1:8080");
	CHECK_STR(cfg->secret, "s3cr3t-value");
	CHECK_STR(cfg->gitea_token, "tok");
	CHECK_STR(cfg->authorization, "Bearer abc");
	CHECK(cfg->max_body == 64 * 1024);
	CHECK_STR(cfg->record, "/tmp/rec");
	CHECK(cfg->max_connections == 8 && cfg->max_queue == 100 && cfg->max_headers == 50);
	CHECK(cfg->request_timeout == 60);
	CHECK_STR(cfg->state_dir, "/var/lib/healhook");
	CHECK_STR(cfg->gitea_url, "https://gitea.example.com");
	CHECK_STR(cfg->gitea_user, "healhook-bot");
	CHECK(cfg->gitea_timeout == 20);
	CHECK_STR(cfg->fixer_command, "aider --model {model} {file}");
	CHECK_STR(cfg->fixer_model, "ollama/x:1b");
	REQUIRE(cfg->fixer_ollama.n == 2);
	CHECK_STR(cfg->fixer_ollama.v[1], "http://127.0.0.1:11435");
	CHECK(cfg->fixer_timeout == 300);
	CHECK(cfg->telegram_chats.n == 1);
	CHECK_STR(cfg->telegram_api, "https://tg.example.com");
	CHECK(cfg->gitea_comment == 0);
	CHECK_STR(cfg->lang, "zh-TW");
	CHECK(cfg->log_level == HH_LOG_DEBUG && cfg->log_format == HH_LOG_JSON);
	REQUIRE(cfg->nrepos == 1);
	r = hh_config_repo(cfg, "acme/shop");
	REQUIRE(r);
	CHECK_STR(r->name, "Acme/Shop");
	CHECK_STR(r->host, "ssh://deploy@fixhost.example.com:2222/srv/shop");
	CHECK_STR(r->identity, "/etc/healhook/id");
	CHECK_STR(r->known_hosts, "/etc/healhook/kh");
	CHECK_STR(r->branch, "main");
	CHECK(r->target == HH_TARGET_PR_HEAD && r->push_via == HH_PUSH_VIA_MIRROR);
	CHECK_STR(r->remote, "https://gitea.example.com/acme/shop.git");
	REQUIRE(r->allow.n == 2);
	CHECK_STR(r->allow.v[0], "^src/[a-z]+\\.c$");
	CHECK(hh_repo_allows(r, "src/main.c") == 1);
	CHECK(hh_repo_allows(r, "src/mainxc") == 0);
	CHECK(hh_repo_allows(r, "docs/x.md") == 1);
	CHECK(hh_repo_allows(r, "services/a.py") == 0);
	CHECK(r->max_diff_lines == 20 && r->max_fixes_per_hour == 3 && r->max_reverts == 1);
	CHECK(r->queue_ttl == 7200);
	CHECK_STR(r->check, "python3 -m py_compile {file}");
	CHECK_STR(r->health_url, "https://shop.example.com/health");
	CHECK(r->health_delay == 0 && r->health_interval == 5 && r->health_timeout == 60);
	CHECK(r->health_failures == 4);
	CHECK_STR(r->health_version_field, "version");
	CHECK(r->ci_wait == 1);
	REQUIRE(r->reviewers.n == 3);
	CHECK_STR(r->reviewers.v[0], "bob");
	CHECK_STR(r->reviewers.v[2], "ci-bot");
	CHECK(r->events.n == 1);
	hh_config_free(cfg);
}

/* The receiver's way (serve hands it the entries the main process read): the same values as
 * from the file, a key without "=" (git's true) included, multivars in order, and an error
 * still names the key and the file. */
TEST(config_entries_as_the_file)
{
	const char *text = "[server]\n\tlisten = 127.0.0.1:9\n\tmax-queue = 7\n"
			   "[repo \"Acme/Shop\"]\n\thost = /srv/shop\n\tci-wait\n"
			   "\treviewers = bob\n\treviewers = \"alice, ci-bot\"\n"
			   "\tallow = \"^src/.*\\\\.c$\"\n";
	const char *path = tmpfile_with(0, text);
	hh_buf e = HH_BUF_INIT;
	hh_config *cfg = NULL;
	const hh_repo_config *r;

	REQUIRE(path);
	REQUIRE(hh_config_entries(path, &e) == 0);
	unlink(path); /* the entries alone */
	REQUIRE(hh_config_load_receiver_entries(&cfg, path, e.ptr, e.len, no_env, 1) == 0);
	CHECK_STR(cfg->listen, "127.0.0.1:9");
	CHECK(cfg->max_queue == 7);
	r = hh_config_repo(cfg, "acme/shop");
	REQUIRE(r);
	CHECK_STR(r->host, "/srv/shop");
	CHECK(r->ci_wait == 1);
	REQUIRE(r->reviewers.n == 3);
	CHECK_STR(r->reviewers.v[2], "ci-bot");
	CHECK(hh_repo_allows(r, "src/a.c") == 1 && hh_repo_allows(r, "src/a.h") == 0);
	hh_config_free(cfg);
	cfg = NULL;
	hh_buf_clear(&e);
	hh_buf_put(&e, "server.colour\0=red", 19); /* with its final NUL */
	CHECK(hh_config_load_receiver_entries(&cfg, path, e.ptr, e.len, no_env, 1) < 0);
	CHECK(err_has("unknown key 'server.colour' in ") && err_has(path));
	CHECK(hh_config_load_receiver_entries(&cfg, path, "server.listen", 13, no_env, 1) < 0);
	CHECK(err_has("damaged"));
	hh_buf_release(&e);
}

TEST(config_defaults)
{
	const hh_repo_config *r;
	hh_config *cfg = load_text("[repo \"a/b\"]\n\thost = /srv/work\n", NULL, NULL);

	REQUIRE(cfg);
	CHECK(cfg->listen == NULL && cfg->secret == NULL && cfg->gitea_url == NULL);
	CHECK(cfg->max_body == 5 * 1024 * 1024);
	CHECK(cfg->max_connections == 64 && cfg->max_queue == 10000);
	CHECK(cfg->request_timeout == 10 && cfg->max_headers == 100);
	CHECK(cfg->gitea_timeout == 10 && cfg->fixer_timeout == 180);
	CHECK_STR(cfg->fixer_model, "ollama_chat/qwen2.5-coder:7b");
	CHECK(strstr(cfg->fixer_command, "--message-file {prompt}") != NULL);
	CHECK(strstr(cfg->fixer_command, "OLLAMA_API_BASE={ollama} {file}") != NULL);
	CHECK_STR(cfg->telegram_api, "https://api.telegram.org");
	CHECK(cfg->gitea_comment == 1);
	CHECK_STR(cfg->lang, "en");
	CHECK(cfg->log_level == HH_LOG_INFO && cfg->log_format == HH_LOG_TEXT);
	r = hh_config_repo(cfg, "A/B");
	REQUIRE(r);
	CHECK(hh_config_repo(cfg, "a/c") == NULL);
	CHECK(r->allow.n == 1);
	CHECK_STR(r->allow.v[0], HH_DEFAULT_ALLOW);
	CHECK(hh_repo_allows(r, "services/billing/api.py") == 1);
	CHECK(hh_repo_allows(r, "services/../etc/x.py") == 0);
	CHECK(hh_repo_allows(r, "setup.py") == 0);
	CHECK(r->max_diff_lines == 50 && r->max_fixes_per_hour == 5 && r->max_reverts == 2);
	CHECK(r->queue_ttl == 86400 && r->health_delay == 10 && r->health_interval == 10);
	CHECK(r->health_timeout == 120 && r->health_failures == 3 && r->ci_wait == 0);
	CHECK(r->target == HH_TARGET_AUTO && r->push_via == HH_PUSH_VIA_HOST);
	CHECK(r->reviewers.n == 0 && r->health_url == NULL);
	hh_config_free(cfg);
}

TEST(config_default_fixer_command_splits)
{
	const char *vars[] = {"model", "m:7b",   "prompt", "/s/prompt",
			      "file",  "a b.py", "ollama", "http://127.0.0.1:11434",
			      NULL};
	hh_strv argv = {NULL, 0};
	hh_config *cfg = load_text("", NULL, NULL);

	REQUIRE(cfg);
	REQUIRE(hh_argv_template(&argv, cfg->fixer_command, vars) == 0);
	CHECK_STR(argv.v[0], "aider");
	CHECK_STR(argv.v[2], "m:7b");
	CHECK_STR(argv.v[argv.n - 1], "a b.py");
	CHECK(hh_strv_contains(&argv, "OLLAMA_API_BASE=http://127.0.0.1:11434"));
	CHECK(hh_strv_contains(&argv, "/s/prompt"));
	hh_strv_release(&argv);
	CHECK(hh_argv_template(&argv, "sh -c \"echo \\\"x y\\\"\" {file}", vars) == 0);
	CHECK(argv.n == 4);
	CHECK_STR(argv.v[2], "echo \"x y\"");
	hh_strv_release(&argv);
	CHECK(hh_argv_template(&argv, "a \"b", NULL) == -1);
	CHECK(argv.n == 0);
	hh_config_free(cfg);
}

TEST(config_multivars_and_commas)
{
	hh_config *cfg = load_text("[notify]\n\ttelegram-chat = 1, 2\n\ttelegram-chat = 3\n"
				   "[repo \"a/b\"]\n\tallow = \"^x{1,3}$, ^y/\"\n\tallow = ^z$\n"
				   "\tevents = pull_request_review_rejected,issue_comment\n",
				   NULL, NULL);
	const hh_repo_config *r;

	if (!cfg)
		fprintf(stderr, "      %s\n", hh_error_last());
	REQUIRE(cfg);
	REQUIRE(cfg->telegram_chats.n == 3);
	CHECK_STR(cfg->telegram_chats.v[1], "2");
	r = hh_config_repo(cfg, "a/b");
	REQUIRE(r && r->allow.n == 3);
	CHECK_STR(r->allow.v[0], "^x{1,3}$");
	CHECK(hh_repo_allows(r, "xx") && hh_repo_allows(r, "y/q") && !hh_repo_allows(r, "xxxx"));
	CHECK(r->events.n == 2);
	hh_config_free(cfg);
}

TEST(config_unknown_key_names_key_file_line)
{
	const char *path;
	char want[128];

	CHECK(load_text("[server]\n\tlisten = 127.0.0.1:1\n[repo \"acme/shop\"]\n\thost = /w\n"
			"\tfoo = 1\n",
			NULL, &path) == NULL);
	snprintf(want, sizeof(want), "unknown key 'repo.acme/shop.foo' in %s:5", path);
	CHECK(err_has(want));
	CHECK(load_text("[sever]\n\tlisten = x\n", NULL, &path) == NULL);
	CHECK(err_has("unknown key 'sever.listen'"));
	CHECK(load_text("[repo]\n\thost = /x\n", NULL, &path) == NULL);
	CHECK(err_has("[repo \"owner/name\"]"));
	CHECK(load_text("[repo \"noslash\"]\n\thost = /x\n", NULL, &path) == NULL);
	CHECK(err_has("bad repository name 'noslash'"));
}

TEST(config_bad_values_name_key)
{
	const char *path;
	char want[160];

	CHECK(load_text("[repo \"acme/shop\"]\n\thost = /w\n\tmax-diff-lines = abc\n", NULL,
			&path) == NULL);
	snprintf(want, sizeof(want),
		 "bad value for 'repo.acme/shop.max-diff-lines' in %s:3: 'abc' is not a number",
		 path);
	CHECK(err_has(want));
	CHECK(load_text("[repo \"a/b\"]\n\tmax-reverts = 0\n", NULL, NULL) == NULL);
	CHECK(err_has("greater than 0"));
	CHECK(load_text("[repo \"a/b\"]\n\tqueue-ttl = 5w\n", NULL, NULL) == NULL);
	CHECK(err_has("'5w' is not a duration"));
	CHECK(load_text("[server]\n\tmax-body = 5x\n", NULL, NULL) == NULL);
	CHECK(err_has("'5x' is not a size"));
	CHECK(load_text("[notify]\n\tgitea-comment = maybe\n", NULL, NULL) == NULL);
	CHECK(err_has("'maybe' is not a boolean"));
	CHECK(load_text("[repo \"a/b\"]\n\ttarget = pr\n", NULL, NULL) == NULL);
	CHECK(err_has("'pr' is not auto, pr-head or default-branch"));
	CHECK(load_text("[repo \"a/b\"]\n\tpush-via = ftp\n", NULL, NULL) == NULL);
	CHECK(err_has("not host or mirror"));
	CHECK(load_text("[notify]\n\tlang = fr\n", NULL, NULL) == NULL);
	CHECK(err_has("'fr' is not en or zh-TW"));
	CHECK(load_text("[log]\n\tlevel = loud\n", NULL, NULL) == NULL);
	CHECK(err_has("log.level"));
	CHECK(load_text("[repo \"a/b\"]\n\tallow = \"^(a\"\n", NULL, NULL) == NULL);
	CHECK(err_has("bad regex '^(a'"));
	CHECK(load_text("[repo \"a/b\"]\n\thost = fixhost.example.com:/x\n", NULL, NULL) == NULL);
	CHECK(err_has("repo.a/b.host"));
	CHECK(load_text("[repo \"a/b\"]\n\thost = ssh://h.example.com:99999/x\n", NULL, NULL) ==
	      NULL);
	CHECK(err_has("port"));
	CHECK(load_text("[gitea]\n\turl = gitea.example.com\n", NULL, NULL) == NULL);
	CHECK(err_has("not an http:// or https:// URL"));
	CHECK(load_text("[fixer]\n\tcommand = \"aider \\\"x\"\n", NULL, NULL) == NULL);
	CHECK(err_has("unterminated quote"));
}

TEST(config_host_forms_accepted)
{
	static const char *ok[] = {"/srv/w", "local:/srv/w", "ssh://h.example.com/w",
				   "ssh://u@h.example.com:22/w", "ssh://u@[::1]:2222/w"};
	char text[256];
	size_t i;
	hh_config *cfg;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(text, sizeof(text), "[repo \"a/b\"]\n\thost = %s\n", ok[i]);
		cfg = load_text(text, NULL, NULL);
		CHECK(cfg != NULL);
		if (!cfg)
			fprintf(stderr, "      %s: %s\n", ok[i], hh_error_last());
		hh_config_free(cfg);
	}
}

TEST(config_include_rejected)
{
	const char *other = tmpfile_with(1, "[server]\n\tlisten = 127.0.0.1:1\n");
	char text[256];

	REQUIRE(other);
	snprintf(text, sizeof(text), "[include]\n\tpath = %s\n", other);
	CHECK(load_text(text, NULL, NULL) == NULL);
	CHECK(err_has("include is not supported"));
	snprintf(text, sizeof(text), "[includeIf \"gitdir:/x\"]\n\tpath = %s\n", other);
	CHECK(load_text(text, NULL, NULL) == NULL);
	CHECK(err_has("include is not supported"));
	unlink(other);
}

TEST(config_syntax_error_has_file_line)
{
	const char *path;
	char want[128];

	CHECK(load_text("[server]\n\tlisten = 127.0.0.1:1\n[oops\n", NULL, &path) == NULL);
	snprintf(want, sizeof(want), "%s:3", path);
	CHECK(err_has(want));
	CHECK(err_has("section header"));
}

TEST(config_invalid_escape_hint)
{
	const char *path;
	char want[128];

	CHECK(load_text("[repo \"a/b\"]\n\thost = /w\n\tallow = ^x\\.py$\n", NULL, &path) == NULL);
	CHECK(err_has("escape"));
	CHECK(err_has("write \\\\. or [.] in regexes"));
	snprintf(want, sizeof(want), "%s:3", path);
	CHECK(err_has(want));
}

TEST(config_missing_file)
{
	hh_config *cfg = NULL;

	CHECK(hh_config_load(&cfg, "/nonexistent/healhook.conf", no_env) == -1);
	CHECK(cfg == NULL);
	CHECK(err_has("/nonexistent/healhook.conf"));
}

TEST(config_env_predecessor)
{
	char *env[] = {"HEALHOOK_REPO=acme/shop",
		       "HEAL_SSH_HOST=fixhost.example.com",
		       "HEAL_SSH_USER=deploy",
		       "AIDER_REPO_PATH=/srv/shop",
		       "DEPLOY_SSH_KEY_PATH=/keys/id",
		       "MOMO_BASE_URL=https://shop.example.com/",
		       "OLLAMA_API_BASE=http://127.0.0.1:11434,http://127.0.0.1:11435",
		       "AIDER_MODEL=ollama/qwen:1b",
		       "AIDER_MAX_DIFF_LINES=30",
		       "AIDER_MAX_HOURLY_FIX=2",
		       "TELEGRAM_BOT_TOKEN=123:abc",
		       "TELEGRAM_CHAT_IDS=11, 22",
		       "TELEGRAM_CHAT_ID=33",
		       "UNRELATED=1",
		       NULL};
	const hh_repo_config *r;
	hh_config *cfg = NULL;

	REQUIRE(hh_config_load(&cfg, NULL, env) == 0);
	CHECK(cfg->path == NULL);
	r = hh_config_repo(cfg, "acme/shop");
	REQUIRE(r);
	CHECK_STR(r->host, "ssh://deploy@fixhost.example.com:22/srv/shop");
	CHECK_STR(r->identity, "/keys/id");
	CHECK_STR(r->health_url, "https://shop.example.com/health");
	CHECK(r->max_diff_lines == 30 && r->max_fixes_per_hour == 2);
	REQUIRE(cfg->fixer_ollama.n == 2);
	CHECK_STR(cfg->fixer_ollama.v[1], "http://127.0.0.1:11435");
	CHECK_STR(cfg->fixer_model, "ollama/qwen:1b");
	CHECK_STR(cfg->telegram_token, "123:abc");
	REQUIRE(cfg->telegram_chats.n == 3);
	CHECK_STR(cfg->telegram_chats.v[1], "22");
	CHECK_STR(cfg->telegram_chats.v[2], "33");
	hh_config_free(cfg);
}

TEST(config_env_healhook_vars)
{
	char *env[] = {"HEALHOOK_REVIEWERS=bob,ci-bot",
		       "HEALHOOK_MAX_DIFF_LINES=7",
		       "HEALHOOK_SERVER_LISTEN=127.0.0.1:9000",
		       "HEALHOOK_SECRET=envsecret",
		       "HEALHOOK_GITEA_TOKEN=envtoken",
		       "HEALHOOK_HEALTH_URL=http://127.0.0.1:1/h",
		       "AIDER_MAX_DIFF_LINES=99",
		       "HEALHOOK_LOG_LEVEL=warn",
		       "HEAL_SSH_PORT=",
		       NULL};
	const hh_repo_config *r;
	hh_config *cfg = load_text("[repo \"a/b\"]\n\treviewers = carol\n", env, NULL);

	if (!cfg)
		fprintf(stderr, "      %s\n", hh_error_last());
	REQUIRE(cfg);
	r = hh_config_repo(cfg, "a/b");
	REQUIRE(r && r->reviewers.n == 2);
	CHECK_STR(r->reviewers.v[0], "bob");
	CHECK_STR(r->reviewers.v[1], "ci-bot");
	CHECK(r->max_diff_lines == 7);
	CHECK_STR(r->health_url, "http://127.0.0.1:1/h");
	CHECK_STR(cfg->listen, "127.0.0.1:9000");
	CHECK_STR(cfg->secret, "envsecret");
	CHECK_STR(cfg->gitea_token, "envtoken");
	CHECK(cfg->log_level == HH_LOG_WARN);
	hh_config_free(cfg);
}

TEST(config_env_errors)
{
	char *bad_num[] = {"HEALHOOK_REPO=a/b", "HEALHOOK_MAX_DIFF_LINES=lots", NULL};
	char *no_repo[] = {"HEALHOOK_REVIEWERS=bob", NULL};
	char *no_path[] = {"HEALHOOK_REPO=a/b", "HEAL_SSH_HOST=fixhost.example.com", NULL};
	char *secret_env[] = {"HEALHOOK_SERVER_MAX_BODY=huge", "HEALHOOK_SECRET=hunter2", NULL};
	hh_config *cfg = NULL;

	CHECK(hh_config_load(&cfg, NULL, bad_num) == -1);
	CHECK(err_has("bad value for HEALHOOK_MAX_DIFF_LINES: 'lots' is not a number"));
	CHECK(hh_config_load(&cfg, NULL, no_repo) == -1);
	CHECK(err_has("HEALHOOK_REPO is not set"));
	CHECK(load_text("[repo \"a/b\"]\n\thost = /y\n[repo \"c/d\"]\n\thost = /x\n", no_repo,
			NULL) == NULL);
	CHECK(err_has("HEALHOOK_REPO is not set"));
	CHECK(hh_config_load(&cfg, NULL, no_path) == -1);
	CHECK(err_has("AIDER_REPO_PATH"));
	CHECK(hh_config_load(&cfg, NULL, secret_env) == -1);
	CHECK(err_has("HEALHOOK_SERVER_MAX_BODY"));
	CHECK(strstr(hh_error_last(), "hunter2") == NULL);
	CHECK(cfg == NULL);
}

TEST(config_env_single_repo_and_port)
{
	char *env[] = {"HEAL_SSH_HOST=fixhost.example.com", "HEAL_SSH_PORT=2222",
		       "AIDER_REPO_PATH=/srv/app", "MOMO_BASE_URL=http://127.0.0.1:8000", NULL};
	hh_config *cfg = load_text("[repo \"o/app\"]\n\tmax-reverts = 3\n", env, NULL);

	REQUIRE(cfg);
	REQUIRE(cfg->nrepos == 1);
	CHECK_STR(cfg->repos[0].host, "ssh://fixhost.example.com:2222/srv/app");
	CHECK_STR(cfg->repos[0].health_url, "http://127.0.0.1:8000/health");
	CHECK(cfg->repos[0].max_reverts == 3);
	hh_config_free(cfg);
}

TEST(config_env_config_path)
{
	const char *path = tmpfile_with(1, "[state]\n\tdir = /tmp/st\n");
	char var[128];
	char *env[] = {var, NULL};
	hh_config *cfg = NULL;

	REQUIRE(path);
	snprintf(var, sizeof(var), "HEALHOOK_CONFIG=%s", path);
	CHECK(hh_config_load(&cfg, NULL, env) == 0);
	unlink(path);
	REQUIRE(cfg);
	CHECK_STR(cfg->path, path);
	CHECK_STR(cfg->state_dir, "/tmp/st");
	hh_config_free(cfg);
}

TEST(config_secret_files)
{
	const char *sf = tmpfile_with(1, "topsecret\n\n");
	const char *empty = tmpfile_with(2, "\n");
	char text[256];
	hh_config *cfg;

	REQUIRE(sf && empty);
	snprintf(text, sizeof(text), "[notify]\n\ttelegram-token-file = %s\n", sf);
	cfg = load_text(text, NULL, NULL);
	REQUIRE(cfg);
	CHECK_STR(cfg->telegram_token, "topsecret");
	hh_config_free(cfg);
	snprintf(text, sizeof(text), "[server]\n\tsecret-file = %s\n", empty);
	CHECK(load_text(text, NULL, NULL) == NULL);
	CHECK(err_has("is empty"));
	CHECK(err_has("server.secret-file"));
	CHECK(load_text("[gitea]\n\ttoken-file = /nonexistent/tok\n", NULL, NULL) == NULL);
	CHECK(err_has("/nonexistent/tok"));
	unlink(sf);
	unlink(empty);
}

TEST(config_require)
{
	char *env[] = {NULL};
	hh_config *cfg = NULL;

	REQUIRE(hh_config_load(&cfg, NULL, env) == 0);
	CHECK(hh_config_require(cfg, "server.listen", cfg->listen) == -1);
	CHECK(err_has("server.listen is not set"));
	CHECK(err_has("HEALHOOK_SERVER_LISTEN"));
	CHECK(hh_config_require(cfg, "repo.a/b.health-url", NULL) == -1);
	CHECK(err_has("HEALHOOK_HEALTH_URL"));
	CHECK(hh_config_require(cfg, "server.secret", "") == -1);
	CHECK(err_has("HEALHOOK_SECRET"));
	CHECK(hh_config_require(cfg, "fixer.model", cfg->fixer_model) == 0);
	hh_config_free(cfg);
}

TEST(config_parse_duration_size_bool)
{
	static const struct {
		const char *s;
		long v;
	} durs[] = {{"0", 0},
		    {"10", 10},
		    {"10s", 10},
		    {"5m", 300},
		    {"2h", 7200},
		    {"1d", 86400},
		    {"", -1},
		    {"m", -1},
		    {"5x", -1},
		    {"-5", -1},
		    {"5ms", -1},
		    {"1.5h", -1},
		    {"99999999999999999999", -1}};
	static const struct {
		const char *s;
		long long v;
	} sizes[] = {{"512", 512},       {"64k", 65536}, {"5m", 5242880},
		     {"1g", 1073741824}, {"2K", 2048},   {"", -1},
		     {"k", -1},          {"1kb", -1},    {"-1", -1}};
	size_t i, sz;
	long d;
	int b;

	for (i = 0; i < sizeof(durs) / sizeof(durs[0]); i++) {
		int rc = hh_parse_duration(durs[i].s, &d);

		CHECK(durs[i].v < 0 ? rc == -1 : rc == 0 && d == durs[i].v);
		if (durs[i].v < 0 ? rc != -1 : rc != 0 || d != durs[i].v)
			fprintf(stderr, "      duration '%s'\n", durs[i].s);
	}
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		int rc = hh_parse_size(sizes[i].s, &sz);

		CHECK(sizes[i].v < 0 ? rc == -1 : rc == 0 && (long long)sz == sizes[i].v);
	}
	CHECK(hh_parse_bool("Yes", &b) == 0 && b == 1);
	CHECK(hh_parse_bool("off", &b) == 0 && b == 0);
	CHECK(hh_parse_bool("2", &b) == -1);
}

TEST(config_env_telegram_chat_ids_json)
{
	char *json[] = {"TELEGRAM_CHAT_IDS=[\"1001\",\"1002\"]", NULL};
	char *ints[] = {"TELEGRAM_CHAT_IDS= [1001, -1002 ,\"@shop_alerts\"] ", NULL};
	char *plain[] = {"TELEGRAM_CHAT_IDS=1001, 1002", "TELEGRAM_CHAT_ID=1003", NULL};
	char *one[] = {"TELEGRAM_CHAT_ID=-1004", NULL};
	char *empty[] = {"TELEGRAM_CHAT_IDS=[]", NULL};
	hh_config *cfg = NULL;

	REQUIRE(hh_config_load(&cfg, NULL, json) == 0);
	REQUIRE(cfg->telegram_chats.n == 2);
	CHECK_STR(cfg->telegram_chats.v[0], "1001");
	CHECK_STR(cfg->telegram_chats.v[1], "1002");
	hh_config_free(cfg);
	REQUIRE(hh_config_load(&cfg, NULL, ints) == 0);
	REQUIRE(cfg->telegram_chats.n == 3);
	CHECK_STR(cfg->telegram_chats.v[0], "1001");
	CHECK_STR(cfg->telegram_chats.v[1], "-1002");
	CHECK_STR(cfg->telegram_chats.v[2], "@shop_alerts");
	hh_config_free(cfg);
	REQUIRE(hh_config_load(&cfg, NULL, plain) == 0);
	REQUIRE(cfg->telegram_chats.n == 3);
	CHECK_STR(cfg->telegram_chats.v[1], "1002");
	CHECK_STR(cfg->telegram_chats.v[2], "1003");
	hh_config_free(cfg);
	REQUIRE(hh_config_load(&cfg, NULL, one) == 0);
	REQUIRE(cfg->telegram_chats.n == 1);
	CHECK_STR(cfg->telegram_chats.v[0], "-1004");
	hh_config_free(cfg);
	REQUIRE(hh_config_load(&cfg, NULL, empty) == 0);
	CHECK(cfg->telegram_chats.n == 0);
	hh_config_free(cfg);
}

TEST(config_env_telegram_chat_ids_refused)
{
	static const char *const bad[] = {"TELEGRAM_CHAT_IDS=[\"1001\",\"1002\"",
					  "TELEGRAM_CHAT_IDS=[\"1001\" \"1002\"]",
					  "TELEGRAM_CHAT_IDS=[\"10\\\"01\"]",
					  "TELEGRAM_CHAT_IDS=[{\"id\":1}]",
					  "TELEGRAM_CHAT_IDS=[\"1001\"] x",
					  "TELEGRAM_CHAT_IDS=\"1001\"",
					  "TELEGRAM_CHAT_IDS=1001,,1002",
					  "TELEGRAM_CHAT_IDS=chat one",
					  "TELEGRAM_CHAT_IDS=[\"abc\"]",
					  "TELEGRAM_CHAT_ID=[\"1001\"",
					  NULL};
	size_t i;

	for (i = 0; bad[i]; i++) {
		char *env[] = {(char *)bad[i], NULL};
		hh_config *cfg = NULL;
		const char *var = strncmp(bad[i], "TELEGRAM_CHAT_IDS", 17) == 0
					  ? "TELEGRAM_CHAT_IDS"
					  : "TELEGRAM_CHAT_ID";

		CHECK(hh_config_load(&cfg, NULL, env) == -1);
		CHECK(cfg == NULL);
		CHECK(strncmp(hh_error_last(), "bad value for ", 14) == 0 &&
		      strncmp(hh_error_last() + 14, var, strlen(var)) == 0);
		if (cfg)
			hh_config_free(cfg);
	}
}

TEST(config_fixer_path)
{
	char *env[] = {"HEALHOOK_FIXER_PATH=/opt/aider/bin:~", NULL};
	hh_config *cfg = load_text("[state]\n\tdir = /tmp\n", NULL, NULL);

	REQUIRE(cfg != NULL);
	CHECK_STR(cfg->fixer_path, "~/.local/bin:/usr/local/bin:/usr/bin:/bin");
	hh_config_free(cfg);
	cfg = load_text("[fixer]\n\tpath = /a:~/b\n", env, NULL);
	REQUIRE(cfg != NULL);
	CHECK_STR(cfg->fixer_path, "/opt/aider/bin:~");
	hh_config_free(cfg);
	cfg = load_text("[fixer]\n\tpath = ~/x:/usr/bin\n", NULL, NULL);
	REQUIRE(cfg != NULL);
	CHECK_STR(cfg->fixer_path, "~/x:/usr/bin");
	hh_config_free(cfg);
	CHECK(load_text("[fixer]\n\tpath = bin:/usr/bin\n", NULL, NULL) == NULL);
	CHECK(err_has("fixer.path 'bin:/usr/bin': 'bin' is neither an absolute directory"));
	CHECK(load_text("[fixer]\n\tpath = /usr/bin::/bin\n", NULL, NULL) == NULL);
	CHECK(err_has("empty element"));
	CHECK(load_text("[fixer]\n\tpath = ~user/bin\n", NULL, NULL) == NULL);
	CHECK(err_has("'~user/bin'"));
	CHECK(load_text("[fixer]\n\tpath =\n", NULL, NULL) == NULL);
	CHECK(err_has("fixer.path is empty"));
}
