/*
 * doctor: the advice chosen from hh_remote_open's error code (hh_doctor_ssh_advice), and the
 * codes hh_remote_open records for the failures that need no server (config, key file,
 * connect). Each failure against a real sshd is in tests/integration/test_doctor.py.
 */
#include "internal/doctor.h"
#include "internal/log.h"
#include "tests/unit/t.h"

#include <stdlib.h>
#include <unistd.h>

static const char FP[] = "SHA256:gFP86gGYFlrjdgsaCT75YhOxvo/DZ6omjxo04gYR/n4";

/* Advice for code: the check, the checks passed before it, and words its fix must hold. */
static void advice_is(int code, const char *fp, const char *check, int passed, const char *w1,
		      const char *w2)
{
	hh_repo_config repo = {0};
	hh_host_spec hs = {0};
	hh_ssh_advice a = {0};

	repo.name = "acme/shop-api";
	repo.identity = "/keys/id ed";
	repo.known_hosts = "/etc/kh";
	hs.is_ssh = 1;
	hs.user = "deploy";
	hs.hostname = "127.0.0.1";
	hs.port = 2222;
	hh_doctor_ssh_advice(&a, code, &repo, &hs, fp);
	CHECK_STR(a.check, check);
	CHECK(a.passed == passed);
	CHECK(a.fix && strstr(a.fix, w1));
	CHECK(a.fix && (!w2 || strstr(a.fix, w2)));
	if (a.fix && (!strstr(a.fix, w1) || (w2 && !strstr(a.fix, w2))))
		fprintf(stderr, "      %s: %s\n", hh_error_name(code), a.fix);
	free(a.fix);
}

TEST(doctor_ssh_advice_by_code)
{
	advice_is(HH_ECONNECT, NULL, "ssh reachable", 0, "nc -vz 127.0.0.1 2222",
		  "repo.acme/shop-api.host");
	advice_is(HH_EHANDSHAKE, NULL, "ssh reachable", 0, "does not speak ssh", NULL);
	advice_is(HH_EHOSTKEY_UNKNOWN, FP, "host key known", 1,
		  "ssh-keyscan -p 2222 127.0.0.1 >> /etc/kh",
		  "verify the fingerprint SHA256:gFP86");
	advice_is(HH_EKNOWNHOSTS, "", "host key known", 1, "ssh-keyscan -p 2222 127.0.0.1 >> ",
		  "verify the fingerprint against");
	advice_is(HH_EHOSTKEY_CHANGED, FP, "host key known", 1, "another key SHA256:gFP86",
		  "ssh-keygen -R '[127.0.0.1]:2222' -f /etc/kh");
	advice_is(HH_EAUTH, NULL, "key accepted", 2, "'/keys/id ed'.pub to ~deploy/.ssh/",
		  "ssh-copy-id -i '/keys/id ed' -p 2222 deploy@127.0.0.1");
	advice_is(HH_EKEYFILE, NULL, "key accepted", 0, "chmod 600 '/keys/id ed'", NULL);
	/* a code without its own advice: the whole ssh command to try by hand */
	advice_is(HH_ECONFIG, NULL, "ssh connect", 0, "UserKnownHostsFile=/etc/kh -p 2222", NULL);
	advice_is(HH_ERR, NULL, "ssh connect", 0, "ssh -i '/keys/id ed'", NULL);
}

/* The codes the modules record, told apart without reading a word of the message. */
TEST(doctor_remote_open_codes)
{
	hh_remote_opts o = {0};
	hh_remote *r = NULL;
	char key[] = "/tmp/hh-doctor-key-XXXXXX";
	char host[128];
	int fd = mkstemp(key);

	REQUIRE(fd >= 0);
	close(fd);
	o.host = "ssh://u@127.0.0.1:1/w";
	o.known_hosts = "/nonexistent/kh";
	CHECK(hh_remote_open(&r, &o) == HH_ECONFIG); /* no identity */
	o.identity = "/nonexistent/key";
	CHECK(hh_remote_open(&r, &o) == HH_EKEYFILE);
	CHECK(hh_error_code() == HH_EKEYFILE);
	o.identity = key;
	o.connect_timeout_ms = 2000;
	/* port 1 on 127.0.0.1: nothing listens there (refused at once) */
	CHECK(hh_remote_open(&r, &o) == HH_ECONNECT);
	snprintf(host, sizeof(host), "ssh://u@bad host/w");
	o.host = host;
	CHECK(hh_remote_open(&r, &o) == HH_ECONFIG);
	o.host = NULL;
	CHECK(hh_remote_open(&r, &o) == HH_ECONFIG);
	CHECK(r == NULL);
	unlink(key);
}
