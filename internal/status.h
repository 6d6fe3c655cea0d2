/*
 * status: the status pages, read-only views of the store for people (issue 13).
 *
 *   GET /                 repositories: frozen or not and why, fixes used of the hourly
 *                         budget, last outcome, queue; charts of outcomes per day and of the
 *                         heal time per stage
 *   GET /jobs             jobs, newest first; ?repo=R&state=S&page=N (50 a page)
 *   GET /jobs/N           one job: findings, PR link, the fix's diff (from the local mirror),
 *                         the stages as a waterfall, health probes, the revert, notifications
 *   GET /api/repos        the repositories as JSON (as `healhook status --json`)
 *   GET /api/jobs         the jobs as JSON (the objects of `healhook history --json`), same
 *                         filters; X-Total-Count says how many match
 *   GET /api/jobs/N       one job's object with "detail", "findings", "probes", "notifications"
 *   GET /static/status.css  the stylesheet
 *
 * The listener (status.listen) is its own libmicrohttpd daemon in the main process of serve,
 * never the webhook port, and never in the receiver. One thread serves it with its own store
 * handle. Every answer carries Content-Security-Policy: default-src 'none'; style-src 'self';
 * img-src 'self' data: (no script at all; pages refresh by <meta http-equiv=refresh>), and
 * methods other than GET and HEAD get 405. With status.token-file set, every request needs
 * "Authorization: Bearer TOKEN" (compared in constant time), else 401.
 */
#ifndef HH_STATUS_H
#define HH_STATUS_H

#include "internal/buf.h"
#include "internal/config.h"
#include "internal/store.h"

/* One repository as the `/` page shows it. */
typedef struct hh_repo_status {
	char *repo;
	int configured; /* 0: only the store knows it (removed from the config) */
	int frozen;
	char *why; /* why it is frozen (NULL when not) */
	long long frozen_since;
	long long fixes_used; /* fixer runs in the last rate-window */
	long budget;          /* max-fixes-per-hour (0 when not configured) */
	long window;          /* rate-window, seconds */
	hh_repo_activity act; /* queue, job in progress, last outcome */
} hh_repo_status;

/* The configured repositories (in configuration order), then any other the store knows.
 * *out is an array of *n the caller frees with hh_repo_status_free(). */
int hh_status_repos(const hh_config *cfg, hh_store *st, long long now, hh_repo_status **out,
		    size_t *n);
void hh_repo_status_free(hh_repo_status *v, size_t n);
/* The rows as a JSON array (one object per repository). */
int hh_status_repos_json(const hh_repo_status *v, size_t n, hh_buf *out);

typedef struct hh_status_server hh_status_server;

/* Starts the listener on listen (ADDR:PORT; port 0 picks one) for cfg (borrowed: it must
 * outlive the server). Returns 0 or -1 with the error naming the address. */
int hh_status_start(hh_status_server **out, const hh_config *cfg, const char *listen);
int hh_status_port(const hh_status_server *s);
/* Stops and frees (NULL is fine). */
void hh_status_stop(hh_status_server *s);

#endif
