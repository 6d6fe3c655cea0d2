/*
 * store_group: group commit for SQLite. See hh_store_group_write in store.h.
 *
 * A synchronous=FULL commit costs an fsync of the WAL; SQLite has one writer, so concurrent
 * deliveries each waited for the fsyncs of all the ones before them. Here the callers of one
 * database queue their writes; the first to find no leader becomes it, takes every queued
 * write (its own included), runs them in one transaction, each in its own savepoint, commits
 * once and wakes the others with their results. Writes that arrive during that commit form
 * the next batch, whose leader is the first of them to wake. Nobody is answered before the
 * commit that holds their writes has returned.
 */
#include "internal/store.h"
#include "internal/store_priv.h"
#include "internal/buf.h"
#include "internal/log.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct item {
	hh_store_write_fn fn;
	void *ctx;
	int rc;
	int done;
	char *err; /* the failure's message and code, to set on the caller's thread */
	enum hh_err code;
	struct item *next;
};

struct group {
	char *path;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct item *head, **tail;
	int leading;
	hh_store *own; /* the leaders' handle: its page cache stays warm between batches */
	int own_failed;
	struct group *next;
};

static pthread_mutex_t groups_mu = PTHREAD_MUTEX_INITIALIZER;
static struct group *groups; /* one per database path, kept for the process's life */

static struct group *group_of(const char *path)
{
	struct group *g;

	pthread_mutex_lock(&groups_mu);
	for (g = groups; g && strcmp(g->path, path) != 0; g = g->next)
		;
	if (!g && (g = calloc(1, sizeof(*g))) && (g->path = hh_strdup(path))) {
		pthread_mutex_init(&g->mu, NULL);
		pthread_cond_init(&g->cv, NULL);
		g->tail = &g->head;
		g->next = groups;
		groups = g;
	} else if (g && !g->path) {
		free(g);
		g = NULL;
	}
	pthread_mutex_unlock(&groups_mu);
	return g;
}

static void set_err(struct item *it)
{
	free(it->err);
	it->err = hh_strdup(hh_error_last());
	it->code = hh_error_code();
}

/* The items from it on fail with err (SQLite rolled the whole transaction back after an
 * item's error, a full disk or an I/O error: the others' writes are gone with it and the
 * rest is not run outside a transaction). They get that item's words and code, so a full
 * disk still says "disk full" and is answered 503. */
static void fail_rest(struct item *it, const char *err, enum hh_err code, int only_ok)
{
	char *e = hh_strdup(err ? err : "store: the shared write transaction was rolled back");

	if (!err)
		code = HH_ERR;
	for (; it; it = it->next) {
		if (only_ok && it->rc != 0)
			continue;
		it->rc = -1;
		free(it->err);
		it->err = e ? hh_strdup(e) : NULL;
		it->code = code;
	}
	free(e);
}

/* Runs one batch on w: one transaction, a savepoint per write, one commit. */
static void run_batch(hh_store *w, struct item *batch)
{
	struct item *it, *cause = NULL;

	if (hh_store_begin(w) < 0) {
		fail_rest(batch, hh_error_last(), hh_error_code(), 0);
		return;
	}
	/* SQLite may roll the whole transaction back by itself (a full disk, an I/O error): the
	 * writes after that are not run outside a transaction. */
	for (it = batch; it && !sqlite3_get_autocommit(w->db); it = it->next) {
		if (sqlite3_exec(w->db, "SAVEPOINT hh_write", NULL, NULL, NULL) != SQLITE_OK) {
			it->rc = hh_st_db_error(w, "cannot begin a write");
			set_err(it);
			cause = it;
			continue;
		}
		it->rc = it->fn(w, it->ctx);
		if (it->rc < 0) {
			set_err(it);
			cause = it;
		}
		if (it->rc != 0)
			sqlite3_exec(w->db, "ROLLBACK TO hh_write", NULL, NULL, NULL);
		sqlite3_exec(w->db, "RELEASE hh_write", NULL, NULL, NULL);
	}
	if (sqlite3_get_autocommit(w->db)) {
		fail_rest(batch, cause ? cause->err : NULL, cause ? cause->code : HH_ERR, 0);
		hh_store_rollback(w); /* nothing to roll back: ends the write (its lock) */
		return;
	}
	if (hh_store_commit(w) < 0) {
		fail_rest(batch, hh_error_last(), hh_error_code(), 1);
		hh_store_rollback(w);
	}
}

/* One group's handle open at a time: a process serves one database (tests open many, one
 * after another). Another group's is closed unless a batch is running on it. */
static void close_other_owns(struct group *g)
{
	struct group *h;

	pthread_mutex_lock(&groups_mu);
	for (h = groups; h; h = h->next) {
		if (h == g)
			continue;
		pthread_mutex_lock(&h->mu);
		if (h->own && !h->leading) {
			hh_store_close(h->own);
			h->own = NULL;
			h->own_failed = 0;
		}
		pthread_mutex_unlock(&h->mu);
	}
	pthread_mutex_unlock(&groups_mu);
}

/* The handle a leader runs its batch on (the leader's role passes from thread to thread, one
 * at a time: g->leading). Every commit drops the page cache of the database's other handles in
 * this process, so a batch run on whichever thread led re-read the pages the one before had
 * written; one handle for every batch keeps them. It is opened like st (hh_store_open_like:
 * the same file, or a refusal if it was replaced), on the first batch, and again when st is
 * a handle of another file at the same path; without it, st. */
static hh_store *leader_handle(struct group *g, hh_store *st)
{
	char *dir, *slash;

	if (g->own && (g->own->dev != st->dev || g->own->ino != st->ino)) {
		hh_store_close(g->own); /* another file at the path now (a test's new store) */
		g->own = NULL;
		g->own_failed = 0;
	}
	if (g->own || g->own_failed)
		return g->own ? g->own : st;
	close_other_owns(g);
	if ((dir = hh_strdup(st->path)) && (slash = strrchr(dir, '/'))) {
		*slash = '\0';
		if (hh_store_open_like(&g->own, dir, st) < 0)
			g->own = NULL;
	}
	free(dir);
	g->own_failed = !g->own;
	return g->own ? g->own : st;
}

/* One write in a transaction of its own, answered after its own commit: PostgreSQL's way
 * (the server shares WAL flushes between concurrent commits by itself), and SQLite's when the
 * group cannot be had (out of memory). */
static int write_alone(hh_store *st, hh_store_write_fn fn, void *ctx)
{
	int rc;

	if (hh_store_begin(st) < 0)
		return -1;
	if ((rc = fn(st, ctx)) != 0 || (rc = hh_store_commit(st)) < 0)
		hh_store_rollback(st); /* after a failed commit: ends the write and its lock */
	return rc;
}

int hh_store_group_write(hh_store *st, hh_store_write_fn fn, void *ctx)
{
	struct group *g;
	struct item me = {fn, ctx, 0, 0, NULL, HH_OK, NULL};

	if (st->pg || !(g = group_of(st->path)))
		return write_alone(st, fn, ctx);
	pthread_mutex_lock(&g->mu);
	*g->tail = &me;
	g->tail = &me.next;
	while (!me.done) {
		struct item *batch, *it;
		hh_store *w;

		if (g->leading) {
			pthread_cond_wait(&g->cv, &g->mu);
			continue;
		}
		g->leading = 1;
		batch = g->head;
		g->head = NULL;
		g->tail = &g->head;
		pthread_mutex_unlock(&g->mu);
		w = leader_handle(g, st);
		run_batch(w, batch);
		if (w == g->own &&
		    w->writing) { /* a transaction neither COMMIT nor ROLLBACK ended */
			hh_store_close(g->own); /* (out of memory): closing ends it, and its lock */
			g->own = NULL;
		}
		pthread_mutex_lock(&g->mu);
		for (it = batch; it;) {
			struct item *next = it->next;

			it->next = NULL;
			it->done = 1;
			it = next;
		}
		g->leading = 0;
		pthread_cond_broadcast(&g->cv);
	}
	pthread_mutex_unlock(&g->mu);
	if (me.rc < 0)
		hh_fail(me.err ? me.code : HH_ERR, "%s", me.err ? me.err : "store: write failed");
	free(me.err);
	return me.rc;
}
