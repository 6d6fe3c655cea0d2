/*
 * store_group: group commit for SQLite. See hh_store_group_write in store.h.
 *
 * A synchronous=FULL commit costs an fsync of the WAL; SQLite has one writer, so concurrent
 * deliveries each waited for the fsyncs of all the ones before them. Here the callers of one
 * database queue their writes; the first to find no leader becomes it, takes every queued
 * write (its own included), runs them in one transaction, each in its own savepoint, commits
 * once and wakes the others with their results. Writes that arrive during that commit form
 * the next batch, whose leader is the first of them to wake. Nobody is answered before the
 * commit that holds their writes is on disk.
 *
 * The fsync is taken off the writers' path: the group's own handle commits with
 * synchronous=NORMAL (SQLite writes the frames, syncs nothing), and the leader, once the
 * commit has returned, hands the lead on and then calls fdatasync() on the -wal file itself
 * before it wakes its batch. The next batch is written while this one's frames reach the
 * disk (its own fdatasync covers both). Commits are numbered (for the tests): `committed`
 * counts the ones begun on the own handle, `synced` is the last one an fdatasync that started
 * after it had finished covers. Every batch is synced, even one that wrote nothing: its
 * answers (a duplicate) may rest on an earlier batch's commit.
 *
 * Checkpoints leave the writers' path too: SQLite's automatic one runs in the commit that
 * crosses 1000 frames (copying them into the database and two fsyncs, milliseconds: the
 * p99). The own handle's WAL hook wakes a checkpointer thread instead, which runs a PASSIVE
 * checkpoint on a connection of its own; writers go on meanwhile. That alone never lets the
 * log start over (SQLite rewinds it only when a write begins with every frame copied, and
 * batches kept coming during the copy: 100 MB in 3 s of load), so the next leader after it
 * copies the few frames written meanwhile itself, holding the lead: then its write begins on
 * a fully copied log, and SQLite writes from its start again. States (ck_mu): CK_IDLE,
 * CK_RUNNING (the thread copies), CK_FINISH (the next leader completes it).
 */
#include "internal/store.h"
#include "internal/store_priv.h"
#include "internal/buf.h"
#include "internal/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECKPOINT_FRAMES 1000 /* SQLite's own automatic checkpoint threshold */

enum { CK_IDLE, CK_RUNNING, CK_FINISH };

struct item {
	hh_store_write_fn fn;
	void *ctx;
	int rc;
	int done, taken;   /* taken: in a batch (whose leader answers it) */
	pthread_cond_t cv; /* its caller waits on it: woken to lead, or when answered */
	char *err;         /* the failure's message and code, to set on the caller's thread */
	enum hh_err code;
	struct item *next;
};

struct group {
	char *path;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* own_close waits on it for the syncs to end */
	struct item *head, **tail;
	int leading;
	int syncing;   /* fdatasyncs running on wal_fd: own is not closed meanwhile */
	hh_store *own; /* the leaders' handle: its page cache stays warm between batches */
	int own_failed;
	int wal_fd; /* own's -wal, when own commits without syncing; else -1 */
	unsigned long long committed, synced; /* atomics (synced written under mu): see the top */
	pthread_mutex_t ck_mu;                /* the checkpointer: */
	pthread_cond_t ck_cv;
	int ck_state, ck_started;
	unsigned long ck_runs;
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
		pthread_mutex_init(&g->ck_mu, NULL);
		pthread_cond_init(&g->ck_cv, NULL);
		g->tail = &g->head;
		g->wal_fd = -1;
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

/* ---- the checkpointer ---- */

static void *checkpointer(void *arg)
{
	struct group *g = arg;
	sqlite3 *db;

	pthread_mutex_lock(&g->ck_mu);
	for (;;) {
		while (g->ck_state != CK_RUNNING)
			pthread_cond_wait(&g->ck_cv, &g->ck_mu);
		pthread_mutex_unlock(&g->ck_mu);
		/* A connection per run (one every thousand frames): nothing of it outlives the run,
		 * so a test's next database at the same path is never held open. The read opens
		 * the log: until then the connection does not know it is in WAL mode, and a
		 * checkpoint is a no-op. */
		db = NULL;
		if (sqlite3_open_v2(g->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
				    NULL) == SQLITE_OK &&
		    sqlite3_exec(db, "PRAGMA user_version", NULL, NULL, NULL) == SQLITE_OK)
			sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		sqlite3_close(db);
		pthread_mutex_lock(&g->ck_mu);
		g->ck_runs++;
		g->ck_state = CK_FINISH;
	}
	return NULL;
}

/* The own handle's WAL hook, after each of its commits: frames is the log's length. */
static int on_wal(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct group *g = arg;
	pthread_attr_t at;
	int started;

	if (frames < CHECKPOINT_FRAMES)
		return SQLITE_OK;
	pthread_mutex_lock(&g->ck_mu);
	if (g->ck_state != CK_IDLE) { /* one is under way */
		pthread_mutex_unlock(&g->ck_mu);
		return SQLITE_OK;
	}
	if (!g->ck_started && pthread_attr_init(&at) == 0) {
		pthread_t t;
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		g->ck_started = pthread_create(&t, &at, checkpointer, g) == 0;
		pthread_attr_destroy(&at);
	}
	started = g->ck_started;
	if (started) {
		g->ck_state = CK_RUNNING;
		pthread_cond_signal(&g->ck_cv);
	}
	pthread_mutex_unlock(&g->ck_mu);
	if (!started) /* no thread: checkpoint here, as SQLite would have */
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	return SQLITE_OK;
}

/* Before a batch on the own handle w (the lead held: nobody writes): completes a checkpoint
 * the thread has run, so that this batch's write begins the log anew. */
static void checkpoint_finish(struct group *g, hh_store *w)
{
	int finish;

	pthread_mutex_lock(&g->ck_mu);
	finish = g->ck_state == CK_FINISH;
	pthread_mutex_unlock(&g->ck_mu);
	if (!finish)
		return;
	sqlite3_wal_checkpoint_v2(w->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	pthread_mutex_lock(&g->ck_mu);
	g->ck_state = CK_IDLE;
	pthread_mutex_unlock(&g->ck_mu);
}

/* ---- the own handle ---- */

/* The directory of the database at path (DIR/healhook.db); NULL when out of memory. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return hh_strdup(".");
	return slash == path ? hh_strdup("/") : hh_strndup(path, (size_t)(slash - path));
}

/* From synchronous=FULL to committing without a sync, the leaders syncing the log: only with
 * a descriptor of the -wal file (it exists once the handle is open in WAL mode, and stays the
 * same file while the handle is open) and its directory entry on disk. Otherwise own stays
 * FULL. With HEALHOOK_BENCH_NO_FSYNC the handle syncs nothing anyway. */
static void own_setup(struct group *g)
{
	char *wal = hh_asprintf("%s-wal", g->path), *dir = NULL;
	int fd = -1, dfd = -1, ok = 0;

	if (!hh_st_bench_no_fsync() && wal && (dir = dir_of(g->path))) {
		fd = open(wal, O_RDONLY | O_CLOEXEC);
		dfd = fd >= 0 ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
		/* A receiver with its own user cannot open its state directory (0710): serve's
		 * main process synced it after giving it the store's files (serve_priv.c). */
		ok = (dfd >= 0 ? fsync(dfd) == 0 : fd >= 0 && errno == EACCES) &&
		     hh_st_exec(g->own, "PRAGMA synchronous = NORMAL",
				"cannot set synchronous mode") == 0;
	}
	if (dfd >= 0)
		close(dfd);
	free(wal);
	free(dir);
	if (!ok) {
		if (fd >= 0)
			close(fd);
		return;
	}
	g->wal_fd = fd;
	sqlite3_wal_hook(g->own->db, on_wal, g); /* instead of the automatic checkpoint */
}

/* Closes the own handle (g->mu held), once no fdatasync uses its log's descriptor. */
static void own_close(struct group *g)
{
	while (g->syncing)
		pthread_cond_wait(&g->cv, &g->mu);
	hh_store_close(g->own);
	g->own = NULL;
	g->own_failed = 0;
	if (g->wal_fd >= 0)
		close(g->wal_fd);
	g->wal_fd = -1;
}

/* One group's handle open at a time: a process serves one database (tests open many, one
 * after another). Another group's is closed unless a batch is running or syncing on it. */
static void close_other_owns(struct group *g)
{
	struct group *h;

	pthread_mutex_lock(&groups_mu);
	for (h = groups; h; h = h->next) {
		if (h == g)
			continue;
		pthread_mutex_lock(&h->mu);
		if (h->own && !h->leading)
			own_close(h);
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
	char *dir;

	if (g->own && (g->own->dev != st->dev || g->own->ino != st->ino)) {
		pthread_mutex_lock(&g->mu); /* another file at the path now (a test's new store) */
		own_close(g);
		pthread_mutex_unlock(&g->mu);
	}
	if (g->own || g->own_failed)
		return g->own ? g->own : st;
	close_other_owns(g);
	if ((dir = dir_of(st->path))) {
		if (hh_store_open_like(&g->own, dir, st) < 0)
			g->own = NULL;
		else
			own_setup(g);
	}
	free(dir);
	g->own_failed = !g->own;
	return g->own ? g->own : st;
}

/* ---- durability ---- */

/* g->mu held: the syncs of overlapping batches end in any order. */
static void raise_synced(struct group *g, unsigned long long seq)
{
	if (seq > g->synced)
		__atomic_store_n(&g->synced, seq, __ATOMIC_RELEASE);
}

/* fdatasync of the log (g->mu held; released around the call). seq: the last commit it
 * covers. 0, or -1 with hh_error set. */
static int sync_log(struct group *g, int fd, unsigned long long seq)
{
	int rc, err;

	g->syncing++;
	pthread_mutex_unlock(&g->mu);
	while ((rc = fdatasync(fd)) < 0 && errno == EINTR)
		;
	err = errno;
	pthread_mutex_lock(&g->mu);
	if (--g->syncing == 0)
		pthread_cond_broadcast(&g->cv);
	if (rc < 0)
		return hh_fail(HH_EBUSY, "store: cannot sync the write-ahead log: %s",
			       strerror(err));
	raise_synced(g, seq);
	return 0;
}

void hh_st_group_counts(const char *path, unsigned long long *committed, unsigned long long *synced,
			unsigned long *checkpoints)
{
	struct group *g = group_of(path);

	*committed = g ? __atomic_load_n(&g->committed, __ATOMIC_ACQUIRE) : 0;
	*synced = g ? __atomic_load_n(&g->synced, __ATOMIC_ACQUIRE) : 0;
	*checkpoints = 0;
	if (g) {
		pthread_mutex_lock(&g->ck_mu);
		*checkpoints = g->ck_runs;
		pthread_mutex_unlock(&g->ck_mu);
	}
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

/* Leads one batch: the queued writes, from the queue (g->mu held, released meanwhile). */
static void lead(struct group *g, hh_store *st)
{
	struct item *batch = g->head, *it;
	unsigned long long seq = 0;
	hh_store *w;
	int fd = -1;

	g->leading = 1;
	for (it = batch; it; it = it->next)
		it->taken = 1;
	g->head = NULL;
	g->tail = &g->head;
	pthread_mutex_unlock(&g->mu);
	w = leader_handle(g, st);
	if (w == g->own && g->wal_fd >= 0) { /* commits without a sync: counted first */
		checkpoint_finish(g, w);
		fd = g->wal_fd;
		seq = __atomic_add_fetch(&g->committed, 1, __ATOMIC_ACQ_REL);
	}
	run_batch(w, batch);
	pthread_mutex_lock(&g->mu);
	if (w == g->own && w->writing) { /* a transaction neither COMMIT nor ROLLBACK ended */
		own_close(g);            /* (out of memory): closing ends it, and its lock */
		if (seq) /* it committed nothing; the syncs before it have ended (own_close) */
			raise_synced(g, seq);
		fd = -1;
	}
	g->leading = 0;
	if (g->head) /* the next batch is written while this one syncs: its first leads */
		pthread_cond_signal(&g->head->cv);
	/* Every batch is synced, even one whose writes were all undone: its answers may rest on
	 * an earlier batch's writes (a duplicate), which this sync covers too. */
	if (fd >= 0 && sync_log(g, fd, seq) < 0) {
		for (it = batch; it; it = it->next) {
			if (it->rc < 0)
				continue; /* its own failure says more */
			it->rc = -1;
			set_err(it);
		}
	}
	for (it = batch; it;) {
		struct item *next = it->next;

		it->next = NULL;
		it->done = 1;
		pthread_cond_signal(&it->cv); /* one waiter each: no herd wakes for nothing */
		it = next;
	}
}

int hh_store_group_write(hh_store *st, hh_store_write_fn fn, void *ctx)
{
	struct group *g;
	struct item me = {fn, ctx, 0, 0, 0, PTHREAD_COND_INITIALIZER, NULL, HH_OK, NULL};

	if (st->pg || !(g = group_of(st->path)))
		return write_alone(st, fn, ctx);
	pthread_mutex_lock(&g->mu);
	*g->tail = &me;
	g->tail = &me.next;
	while (!me.done) {
		if (g->leading || me.taken)
			pthread_cond_wait(&me.cv, &g->mu);
		else
			lead(g, st);
	}
	pthread_mutex_unlock(&g->mu);
	pthread_cond_destroy(&me.cv);
	if (me.rc < 0)
		hh_fail(me.err ? me.code : HH_ERR, "%s", me.err ? me.err : "store: write failed");
	free(me.err);
	return me.rc;
}
