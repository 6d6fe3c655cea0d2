/*
 * error: the failures a caller decides on, by name (after libgit2's include/git2/errors.h and
 * curl's CURLcode: a short list, append-only, never renumbered).
 *
 * Every failing function records a message for this thread (hh_error, log.h). A function
 * whose callers must tell one failure from another records a code with it (hh_fail) and
 * returns that code; every other failure is HH_ERR (-1), so "< 0" still means "failed" and
 * "return hh_error(...)" stays the idiom. Callers branch on the returned code, or on
 * hh_error_code() when the code passed through a caller that returned only -1; never on the
 * message's wording, which is for people and may change.
 *
 * hh_error_wrap adds context in front of the last message and keeps its code and detail, so
 * a module can say what it was doing without hiding why it failed.
 */
#ifndef HH_ERROR_H
#define HH_ERROR_H

enum hh_err {
	HH_OK = 0,
	HH_ERR = -1,          /* any other failure: the message says what */
	HH_EBUSY = -2,        /* the store is locked, full, read-only or damaged: retry later */
	HH_EMEDIATYPE = -3,   /* a content type healhook does not read */
	HH_EBADINPUT = -4,    /* malformed input (JSON, a header, a form) */
	HH_ENOTFOUND = -5,    /* the object asked for does not exist */
	HH_ECONFIG = -6,      /* a setting is missing or invalid (the fix host's, say) */
	HH_EKEYFILE = -7,     /* an ssh key file cannot be read or used */
	HH_ECONNECT = -8,     /* no TCP connection (refused, unreachable, name unknown) */
	HH_EHANDSHAKE = -9,   /* connected, but the ssh handshake failed */
	HH_EKNOWNHOSTS = -10, /* the known-hosts file cannot be read */
	HH_EHOSTKEY_UNKNOWN = -11, /* the host's key is not in known-hosts (detail: fingerprint) */
	HH_EHOSTKEY_CHANGED = -12, /* known-hosts has another key for it (detail: fingerprint) */
	HH_EAUTH = -13,            /* the server refused every credential */
	HH_ENOSFTP = -14,          /* the ssh server has no sftp subsystem */
	HH_EREJECTED = -15,        /* a push refused as not a fast-forward: the branch moved */
	HH_ENOTINSTALLED = -16,    /* a program healhook runs is not installed where it looks */
	HH_EAGAIN = -17,           /* a service answered 429 or 5xx, or not at all: may retry */
};

/* Records message and code for this thread; returns code. */
int hh_fail(enum hh_err code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "<context>: <last message>", keeping the last code and detail; returns the last code. */
int hh_error_wrap(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The code of the last failure on this thread (HH_OK after hh_error_clear). */
enum hh_err hh_error_code(void);
/* A structured detail of the last failure ("" if none): for the host-key codes, the key's
 * SHA256 fingerprint as OpenSSH prints it ("SHA256:..."). Valid until the next failure. */
const char *hh_error_detail(void);
/* Sets the detail of the last failure (after hh_fail, before returning). */
void hh_error_set_detail(const char *detail);
/* The code's name: "busy", "host-key-unknown", ... ("error" for HH_ERR). */
const char *hh_error_name(enum hh_err code);

#endif
