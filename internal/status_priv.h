/*
 * status_priv: what the files of the status module share (status.c: the listener;
 * status_pages.c: `/` and `/jobs`; status_job.c: `/jobs/N`; status_api.c: `/api/...`).
 * Private to the status module.
 */
#ifndef HH_STATUS_PRIV_H
#define HH_STATUS_PRIV_H

#include "internal/html.h"
#include "internal/status.h"

#define HH_STATUS_PAGE 50 /* jobs per page */
#define HH_STATUS_MAX_PER 200
#define HH_STATUS_REFRESH 30 /* seconds between refreshes of a page */
#define HH_STATUS_DIFF_MAX (256 * 1024)

/* One request: what the router parsed, and the answer a page fills. */
typedef struct hh_status_req {
	const hh_config *cfg;
	hh_store *st;
	long long now;
	const char *repo, *state; /* ?repo= and ?state= (NULL when absent or empty) */
	long long page;           /* ?page= (from 1) */
	long long per; /* ?per= jobs a page (1..HH_STATUS_MAX_PER, default HH_STATUS_PAGE) */
	/* out */
	int status;        /* 200 unless a page says otherwise */
	const char *ctype; /* "text/html; charset=utf-8" unless a page says otherwise */
	long long total;   /* X-Total-Count when >= 0 */
	hh_buf body;
} hh_status_req;

/* Pages: each fills r->body (and r->status, r->ctype); 0, or -1 when the store failed (the
 * router then answers 500 and logs the error). */
int hh_status_page_repos(hh_status_req *r);
int hh_status_page_jobs(hh_status_req *r);
int hh_status_page_job(hh_status_req *r, long long id);
/* path is what follows "/api/". */
int hh_status_api(hh_status_req *r, const char *path);

/* The stylesheet served at /static/status.css. */
extern const char hh_status_css[];

/* Page frame: <head> with the refresh, the stylesheet and the navigation; the end. */
void hh_status_head(hh_buf *b, const char *title, int refresh);
void hh_status_foot(hh_buf *b, long long now, int refresh);
/* A state as a coloured badge (class st-<state>). */
void hh_status_badge(hh_buf *b, const char *state);
/* A plain error page with status. */
int hh_status_error_page(hh_status_req *r, int status, const char *msg);
/* The average ms of each stage over the newest landed jobs, for the chart on `/`. */
int hh_status_stage_chart(hh_status_req *r, hh_buf *b);
/* Parses a stages JSON object ({"connect":12,...}) into bars (labels owned by *names). */
int hh_status_parse_stages(const char *json, hh_svg_bar **bars, size_t *n, hh_strv *names);

#endif
