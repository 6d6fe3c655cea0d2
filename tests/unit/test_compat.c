/*
 * Unit tests for the predecessor's environment-only mode: the defaults of config_compat.c and
 * the repository name taken from origin's URL (compat.c). The host side (git remote get-url
 * over ssh) is exercised by tests/integration/test_migration.py.
 */
#include "tests/unit/t.h"
#include "internal/compat.h"
#include "internal/config.h"
#include "internal/log.h"

#include <stdlib.h>
#include <string.h>

TEST(compat_repo_from_url)
{
	static const char *const ok[][2] = {
		{"git@gitea.example.com:acme/shop-api.git\n", "acme/shop-api"},
		{"ssh://git@gitea.example.com:2222/acme/shop.api.git", "acme/shop.api"},
		{"https://gitea.example.com/sub/path/acme/shop_api", "acme/shop_api"},
		{"https://gitea.example.com/acme/shop/", "acme/shop"},
		{"/srv/git/acme/shop-api.git", "acme/shop-api"},
		{"file:///srv/git/Acme/Shop.git", "Acme/Shop"},
	};
	static const char *const bad[] = {
		"shop.git", "https://gitea.example.com/shop", "git@h:shop.git", "", "/acme/$(x)/y",
		"https://h/acme/sh op.git", "https://h/../x.git", "ssh://host-only",
	};
	char out[128];
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		CHECK(hh_compat_repo_from_url(ok[i][0], out, sizeof(out)) == 0);
		CHECK_STR(out, ok[i][1]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = hh_compat_repo_from_url(bad[i], out, sizeof(out));
		CHECK(rc == -1);
		if (rc == 0)
			fprintf(stderr, "      '%s' gave '%s'\n", bad[i], out);
	}
}

TEST(compat_predecessor_defaults)
{
	char *env[] = {"HEAL_SSH_HOST=fixhost.example.com", "HEAL_SSH_USER=deploy",
		       "AIDER_REPO_PATH=/srv/shop", "DEPLOY_SSH_KEY_PATH=/keys/id",
		       "HOME=/home/ops", "TELEGRAM_CHAT_IDS=[\"1001\",\"1002\"]", NULL};
	char *sysd[] = {"HEAL_SSH_HOST=h", "AIDER_REPO_PATH=/srv/shop", "HOME=/home/ops",
			"STATE_DIRECTORY=/var/lib/healhook:/var/lib/other",
			"HEALHOOK_KNOWN_HOSTS=/etc/healhook/kh", NULL};
	char *named[] = {"HEALHOOK_REPO=acme/shop", "HEAL_SSH_HOST=h", "AIDER_REPO_PATH=/srv/shop",
			 "HOME=/home/ops", "XDG_STATE_HOME=/home/ops/st", NULL};
	hh_config *cfg = NULL;

	REQUIRE(hh_config_load(&cfg, NULL, env) == 0);
	CHECK(cfg->predecessor == 1);
	CHECK_STR(cfg->state_dir, "/home/ops/.local/state/healhook");
	REQUIRE(cfg->nrepos == 1);
	CHECK_STR(cfg->repos[0].name, HH_REPO_FROM_HOST);
	CHECK_STR(cfg->repos[0].host, "ssh://deploy@fixhost.example.com:22/srv/shop");
	CHECK_STR(cfg->repos[0].known_hosts, "/home/ops/.ssh/known_hosts");
	CHECK_STR(cfg->repos[0].identity, "/keys/id");
	CHECK(cfg->telegram_chats.n == 2);
	hh_config_free(cfg);
	REQUIRE(hh_config_load(&cfg, NULL, sysd) == 0);
	CHECK_STR(cfg->state_dir, "/var/lib/healhook");
	CHECK_STR(cfg->repos[0].known_hosts, "/etc/healhook/kh");
	hh_config_free(cfg);
	REQUIRE(hh_config_load(&cfg, NULL, named) == 0);
	CHECK_STR(cfg->state_dir, "/home/ops/st/healhook");
	CHECK_STR(cfg->repos[0].name, "acme/shop");
	hh_config_free(cfg);
}

TEST(compat_predecessor_errors_list_every_missing_variable)
{
	char *none[] = {"HEAL_SSH_USER=deploy", "DEPLOY_SSH_KEY_PATH=/keys/id", "HOME=/h", NULL};
	char *nokey[] = {"HEAL_SSH_HOST=127.0.0.1", "HEAL_SSH_PORT=1", "AIDER_REPO_PATH=/srv/shop",
			 "HOME=/h", NULL};
	hh_config *cfg = NULL;

	CHECK(hh_config_load(&cfg, NULL, none) == -1);
	CHECK(strstr(hh_error_last(), "the predecessor's environment lacks HEAL_SSH_HOST") &&
	      strstr(hh_error_last(), "AIDER_REPO_PATH") && strstr(hh_error_last(), "set them"));
	/* without the key: one error for the key and the name (read with the key) */
	REQUIRE(hh_config_load(&cfg, NULL, nokey) == 0);
	CHECK(hh_compat_resolve(cfg) == -1);
	CHECK(strstr(hh_error_last(), "lacks DEPLOY_SSH_KEY_PATH") &&
	      strstr(hh_error_last(), "HEALHOOK_REPO"));
	hh_config_free(cfg);
}
