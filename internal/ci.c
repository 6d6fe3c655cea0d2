/*
 * ci: the verdict of ci-wait over the latest status of each context. See ci.h.
 */
#include "internal/ci.h"

#include <stdlib.h>
#include <string.h>

#define NAME_MAX_BYTES 80
#define NAMED_MAX 10

int hh_ci_statuses_add(hh_ci_statuses *s, const char *context, const char *state)
{
	if (!context || !state || s->context.n >= HH_CI_MAX_CONTEXTS ||
	    hh_strv_contains(&s->context, context))
		return 0;
	if (hh_strv_push(&s->context, context) < 0)
		return -1;
	if (hh_strv_push(&s->state, state) < 0) {
		free(s->context.v[--s->context.n]);
		s->context.v[s->context.n] = NULL;
		return -1;
	}
	return 0;
}

void hh_ci_statuses_release(hh_ci_statuses *s)
{
	if (!s)
		return;
	hh_strv_release(&s->context);
	hh_strv_release(&s->state);
}

static const char *state_of(const hh_ci_statuses *st, const char *context)
{
	size_t i;

	for (i = 0; i < st->context.n; i++)
		if (strcmp(st->context.v[i], context) == 0)
			return st->state.v[i];
	return NULL;
}

static enum hh_ci_verdict judge_one(const char *state)
{
	if (!state)
		return HH_CI_WAITING;
	if (strcmp(state, "error") == 0 || strcmp(state, "failure") == 0 ||
	    strcmp(state, "warning") == 0)
		return HH_CI_FAILED;
	if (strcmp(state, "success") == 0 || strcmp(state, "skipped") == 0)
		return HH_CI_PASSED;
	return HH_CI_WAITING; /* pending, or a state this version does not know */
}

/* Appends 'name' cut to NAME_MAX_BYTES (on a UTF-8 boundary), control characters as '?'. */
static void put_name(hh_buf *b, const char *name)
{
	size_t n = strlen(name), i;

	if (n > NAME_MAX_BYTES) {
		n = NAME_MAX_BYTES;
		while (n > 0 && ((unsigned char)name[n] & 0xc0) == 0x80)
			n--;
	}
	hh_buf_putc(b, '\'');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		hh_buf_putc(b, c < 0x20 || c == 0x7f ? '?' : (char)c);
	}
	hh_buf_puts(b, n < strlen(name) ? "...'" : "'");
}

struct tally {
	size_t awaited, passed, failed;
	hh_buf failures, all; /* "'a' failure, ..." and every awaited context with its state */
	size_t named_failures, named_all;
};

static void put_item(hh_buf *b, size_t *named, const char *name, const char *state)
{
	if (*named < NAMED_MAX) {
		if (b->len)
			hh_buf_puts(b, ", ");
		put_name(b, name);
		hh_buf_putc(b, ' ');
		hh_buf_puts(b, state ? state : "not reported");
	}
	(*named)++;
}

static void count(struct tally *t, const char *name, const char *state)
{
	enum hh_ci_verdict v = judge_one(state);

	t->awaited++;
	if (v == HH_CI_FAILED) {
		t->failed++;
		put_item(&t->failures, &t->named_failures, name, state);
	} else if (v == HH_CI_PASSED) {
		t->passed++;
	}
	put_item(&t->all, &t->named_all, name, state);
}

static void put_list(hh_buf *why, const hh_buf *list, size_t named)
{
	hh_buf_puts(why, list->ptr ? list->ptr : "");
	if (named > NAMED_MAX)
		hh_buf_printf(why, " and %zu more", named - NAMED_MAX);
}

enum hh_ci_verdict hh_ci_judge(const hh_ci_statuses *st, const hh_strv *required, hh_buf *why)
{
	struct tally t = {0, 0, 0, HH_BUF_INIT, HH_BUF_INIT, 0, 0};
	enum hh_ci_verdict v;
	size_t i;

	if (required && required->n) {
		for (i = 0; i < required->n; i++)
			if (strcmp(required->v[i], HH_CI_OWN_CONTEXT) != 0)
				count(&t, required->v[i], state_of(st, required->v[i]));
	} else {
		for (i = 0; i < st->context.n; i++)
			if (strcmp(st->context.v[i], HH_CI_OWN_CONTEXT) != 0)
				count(&t, st->context.v[i], st->state.v[i]);
	}
	hh_buf_clear(why);
	if (t.failed) {
		v = HH_CI_FAILED;
		put_list(why, &t.failures, t.named_failures);
	} else if (t.awaited && t.passed == t.awaited) {
		v = HH_CI_PASSED;
		put_list(why, &t.all, t.named_all);
	} else {
		v = HH_CI_WAITING;
		if (t.awaited)
			put_list(why, &t.all, t.named_all);
		else
			hh_buf_puts(why,
				    "every context but " HH_CI_OWN_CONTEXT "'s, none reported");
	}
	hh_buf_release(&t.failures);
	hh_buf_release(&t.all);
	return v;
}
