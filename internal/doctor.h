/*
 * doctor: checks every configured repository end to end, the way a heal would use it, and says
 * for each failed check what to do (`healhook doctor`).
 *
 * Per repository: the host spec; for an ssh host, TCP reachable, host key known, key accepted
 * (one session, told apart by hh_remote_open's error code); the work tree exists, is a git
 * repository, is not shallow, is on repo.branch; the fixer's program answers --version on the
 * host (run like the fixer: clean environment); the health URL answers. Once: each Ollama
 * candidate has the model, the Gitea token is accepted (GET /api/v1/user), the Telegram bot
 * token is accepted (getMe). A check that cannot run because an earlier one failed is reported
 * once as skipped. No message holds a secret: URLs are redacted with hh_http_redact_url and
 * the Telegram token never leaves the request.
 */
#ifndef HH_DOCTOR_H
#define HH_DOCTOR_H

#include <stddef.h>

#include "internal/config.h"
#include "internal/remote.h"

enum hh_check_state {
	HH_CHECK_OK = 0,
	HH_CHECK_FAIL, /* something a heal needs does not work: exit 1 */
	HH_CHECK_WARN, /* works, but something looks wrong (e.g. gitea.user is another login) */
	HH_CHECK_SKIP, /* not configured, or not checkable after an earlier failure */
};

typedef struct hh_check {
	enum hh_check_state state;
	char *scope;  /* "acme/shop-api", or "fixer", "gitea", "telegram" for global checks */
	char *name;   /* "ssh reachable", "host key known", ... (HH_DOCTOR_NAME_WIDTH at most) */
	char *detail; /* what was seen (never a secret) */
	char *fix;    /* what to do; set for FAIL and WARN, else NULL */
} hh_check;

/* The longest check name, for aligned output. */
#define HH_DOCTOR_NAME_WIDTH 16

typedef void (*hh_check_fn)(void *ctx, const hh_check *c);

typedef struct hh_doctor {
	const hh_config *cfg;
	long timeout_ms;      /* per network probe (HTTP and ssh connect); 0 = 5000 */
	long exec_timeout_ms; /* per command on the host; 0 = 30000 */
	hh_check_fn on_check; /* called as each check completes (may be NULL) */
	void *ctx;
	/* Out: every check, in order. Owned by the struct; release with hh_doctor_release. */
	hh_check *checks;
	size_t n;
	size_t failed, warned;
	int oom; /* internal: an allocation failed */
} hh_doctor;

/*
 * Runs every check. Returns the number of failed checks (0 = all good), or -1 when out of
 * memory (error set). Network and host problems are checks, never errors.
 */
int hh_doctor_run(hh_doctor *d);
void hh_doctor_release(hh_doctor *d);

/*
 * What doctor reports when hh_remote_open failed with code (internal/error.h), pure: the check
 * that failed ("ssh reachable", "host key known", "key accepted", or "ssh connect" for a code
 * without its own advice), how many of the checks before it passed (0; 1: ssh reachable; 2:
 * ssh reachable and host key known) and the fix, which quotes fingerprint (hh_error_detail of
 * a host key code; NULL or "" when none).
 */
typedef struct hh_ssh_advice {
	const char *check; /* static */
	int passed;
	char *fix; /* caller frees; NULL when out of memory */
} hh_ssh_advice;
void hh_doctor_ssh_advice(hh_ssh_advice *a, int code, const hh_repo_config *repo,
			  const hh_host_spec *hs, const char *fingerprint);

#endif
