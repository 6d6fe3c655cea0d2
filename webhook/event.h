/*
 * event: a Gitea webhook body parsed into a plain struct (cJSON stays inside event.c).
 *
 * Dispatch is on X-Gitea-Event-Type (see docs gitea-facts): note that `pull_request_comment`
 * there is a plain PR conversation comment, while X-Gitea-Event says `pull_request_comment`
 * for a COMMENT review. Only the fields healhook uses are kept. Strings are owned by the
 * event and freed by hh_event_release(); absent strings are NULL, absent numbers 0.
 */
#ifndef HH_EVENT_H
#define HH_EVENT_H

#include <stddef.h>

enum hh_event_kind {
	HH_EV_UNKNOWN = 0,     /* any type healhook does not act on */
	HH_EV_REVIEW_REJECTED, /* pull_request_review_rejected */
	HH_EV_REVIEW_APPROVED, /* pull_request_review_approved */
	HH_EV_REVIEW_COMMENT,  /* pull_request_review_comment */
	HH_EV_PR_COMMENT,      /* pull_request_comment (conversation comment on a PR) */
	HH_EV_ISSUE_COMMENT,   /* issue_comment */
	HH_EV_PUSH,            /* push (acknowledged, never acted on) */
};

typedef struct hh_event {
	enum hh_event_kind kind;
	char *action;         /* "reviewed", "created", ... */
	char *repo;           /* repository.full_name */
	char *default_branch; /* repository.default_branch */
	char *clone_url;      /* repository.clone_url */
	char *ssh_url;        /* repository.ssh_url */
	char *sender;         /* sender.login */
	long pr_number;       /* pull_request.number, else issue.number when is_pull; 0 = none */
	char *pr_state;       /* pull_request.state: "open" or "closed" */
	int pr_merged;        /* pull_request.merged */
	char *pr_url;         /* pull_request.html_url */
	char *head_ref;       /* pull_request.head.ref */
	char *head_sha;       /* pull_request.head.sha */
	char *base_ref;       /* pull_request.base.ref */
	char *review_type;    /* review.type */
	char *review_content; /* review.content */
	char *comment_body;   /* comment.body */
	long comment_id;      /* comment.id */
	int is_pull;          /* is_pull (issue comments) or 1 for review events */
} hh_event;

/* Maps an X-Gitea-Event-Type value (NULL allowed) to a kind; unknown → HH_EV_UNKNOWN. */
enum hh_event_kind hh_event_kind_from_type(const char *event_type);
/* The canonical X-Gitea-Event-Type name of a kind ("unknown" for HH_EV_UNKNOWN). */
const char *hh_event_kind_name(enum hh_event_kind kind);
/* 1 for the three review kinds. */
int hh_event_is_review(enum hh_event_kind kind);

/*
 * Parses json (len bytes, need not be NUL-terminated) as a body of the given kind.
 * Returns 0; HH_EBADINPUT when the body is not valid JSON, is nested deeper than cJSON allows,
 * is not an object, or lacks repository.full_name; HH_ERR when memory ran out (the error set).
 * On error ev is released.
 */
int hh_event_parse(hh_event *ev, enum hh_event_kind kind, const char *json, size_t len);
void hh_event_release(hh_event *ev);

#endif
