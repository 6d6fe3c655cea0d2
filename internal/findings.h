/*
 * findings: what reviewers ask to be fixed, extracted from review text and line comments.
 *
 * Grammar (docs/findings.md has the full table):
 *   - a line `path/to/file.py:LINE: [Type] message` (also `file:LINE:COL:`), optionally behind a
 *     list bullet (-, *, +, "1.") and with the path in backticks; without a `[Type]` tag a
 *     leading `SomethingError:` / `...Exception:` / `...Warning:` word is the type, else
 *     the type is "review";
 *   - a fenced block whose info string is `healhook` holding a JSON array of
 *     {"file", "line", "type", "message"};
 *   - lines inside any other fenced block, and prose, are ignored.
 * At most HH_MAX_FINDINGS findings per delivery; messages are kept up to HH_MAX_MESSAGE bytes.
 * These functions are pure: no clock, environment, disk or network.
 */
#ifndef HH_FINDINGS_H
#define HH_FINDINGS_H

#include <stddef.h>

#define HH_MAX_FINDINGS 100
#define HH_MAX_MESSAGE 4000
#define HH_MAX_PROMPT_MESSAGE 500

enum hh_source { HH_SRC_REVIEW_BODY = 0, HH_SRC_LINE_COMMENT, HH_SRC_COMMENT };

typedef struct hh_finding {
	char *file;
	long line;  /* 0 when unknown */
	char *type; /* "NameError", or "review" */
	char *message;
	enum hh_source source;
	/* The verdict, filled by the intake's judge. */
	int accepted;
	const char *reason; /* static string: "path-not-allowed", ...; NULL when accepted */
	long long job;      /* job id when accepted and stored, else 0 */
} hh_finding;

typedef struct hh_findings {
	hh_finding *v;
	size_t n;
	size_t cap;
} hh_findings;

/* "review-body", "line-comment", "comment". */
const char *hh_source_name(enum hh_source src);

/* Appends one finding (strings copied; message cut to HH_MAX_MESSAGE bytes at a UTF-8
 * boundary). Identical findings (file, line, type, message) are added once. Returns 0 or -1
 * (out of memory, or HH_MAX_FINDINGS reached: error "too many findings"). */
int hh_findings_add(hh_findings *out, const char *file, long line, const char *type,
		    const char *message, enum hh_source src);

/* Extracts the findings of a review body or comment text. Returns the number added, or -1. */
int hh_findings_from_text(hh_findings *out, const char *text, enum hh_source src);

/* Adds one review line comment: type from a leading `[Type]` tag of body (removed from the
 * message), else "review". Returns 0 or -1. */
int hh_findings_from_line_comment(hh_findings *out, const char *path, long line, const char *body);

void hh_findings_release(hh_findings *f);

/*
 * The prompt given to the fixer (the predecessor's wording):
 *   "Fix the following {type} in this file. Only fix what is necessary, do not refactor or
 *    add features. Error: {message}"
 * with message cut to HH_MAX_PROMPT_MESSAGE bytes (at a UTF-8 boundary), control characters
 * other than newline and tab removed, and type reduced to [A-Za-z0-9_.:-] (max 64). The prompt
 * never starts with '/' or '!'. Returns a new string the caller frees, or NULL.
 */
char *hh_prompt_build(const char *type, const char *message);

/* Hex SHA-256 of repo \0 branch \0 file \0 type \0 message. */
void hh_finding_fingerprint(const char *repo, const char *branch, const hh_finding *f,
			    char out[65]);

#endif
