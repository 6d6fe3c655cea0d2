/*
 * gitops_remote.c: an hh_git_channel over an hh_remote's streams, so that libgit2's smart
 * protocol to the fix host's repository rides on the job's own connection (one SSH session
 * for the whole heal). Kept apart from gitops.c so that only programs using it link remote.
 */
#include "internal/gitops.h"
#include "internal/log.h"
#include "internal/remote.h"
#include "internal/rscript.h"

#include <stdlib.h>
#include <string.h>

/* Long enough for a big fetch; a hung service is still stopped by the remote side. */
#define GIT_STREAM_TIMEOUT_MS (10 * 60 * 1000L)

static int rc_open(void *ctx, const char *const *argv, void **stream)
{
	hh_stream *s = NULL;

	if (hh_remote_stream_open(ctx, argv, GIT_STREAM_TIMEOUT_MS, &s) < 0)
		return -1;
	*stream = s;
	return 0;
}

static ssize_t rc_read(void *stream, void *buf, size_t len)
{
	return hh_stream_read(stream, buf, len);
}

static int rc_write(void *stream, const void *buf, size_t len)
{
	return hh_stream_write(stream, buf, len);
}

static int rc_close(void *stream)
{
	hh_stream_send_eof(stream);
	return hh_stream_close(stream);
}

void hh_git_channel_from_remote(hh_git_channel *ch, struct hh_remote *r)
{
	ch->open = rc_open;
	ch->read = rc_read;
	ch->write = rc_write;
	ch->close = rc_close;
	ch->ctx = r;
}

/* ---- a git service inside a remote script ---- */

struct script_stream {
	hh_stream *s;
	hh_git_script *gs;
};

/* The service as a step: exec it when nothing follows, else go on to post's steps. */
static const char service_exec[] = "exec \"$1\" \"$2\"";
static const char service_then[] = "\"$1\" \"$2\" || hh_fail";

static int sc_open(void *ctx, const char *const *argv, void **stream)
{
	hh_git_script *gs = ctx;
	hh_rscript merged = {0};
	hh_strv av = {0};
	hh_stream_opts o = {0};
	struct script_stream *ss = NULL;
	int rc = -1;

	if ((gs->pre && hh_rscript_append(&merged, gs->pre) < 0) ||
	    hh_rscript_step(&merged, argv[0], gs->post ? service_then : service_exec, 2, argv) <
		    0 ||
	    (gs->post && hh_rscript_append(&merged, gs->post) < 0) ||
	    hh_rscript_argv(&merged, &av) < 0)
		goto out;
	if (!(ss = calloc(1, sizeof(*ss)))) {
		hh_error("out of memory");
		goto out;
	}
	o.cwd = gs->cwd;
	o.timeout_ms = GIT_STREAM_TIMEOUT_MS;
	o.close_wait_ms = gs->close_wait_ms;
	if (hh_remote_stream_open_opts(gs->r, (const char *const *)av.v, &o, &ss->s) < 0)
		goto out;
	ss->gs = gs;
	gs->ran = 1;
	gs->status = -1;
	gs->failed_step = 0;
	gs->rejected_step = 0;
	hh_buf_clear(&gs->err);
	*stream = ss;
	ss = NULL;
	rc = 0;
out:
	free(ss);
	hh_strv_release(&av);
	hh_rscript_release(&merged);
	return rc;
}

static ssize_t sc_read(void *stream, void *buf, size_t len)
{
	return hh_stream_read(((struct script_stream *)stream)->s, buf, len);
}

static int sc_write(void *stream, const void *buf, size_t len)
{
	return hh_stream_write(((struct script_stream *)stream)->s, buf, len);
}

static int sc_close(void *stream)
{
	struct script_stream *ss = stream;
	hh_git_script *gs = ss->gs;
	int steps = (gs->pre ? gs->pre->steps : 0) + 1 + (gs->post ? gs->post->steps : 0);
	int k;

	hh_stream_send_eof(ss->s);
	gs->status = hh_stream_close_keep_err(ss->s, &gs->err);
	k = gs->status - HH_RSCRIPT_FAIL_BASE;
	gs->failed_step = k >= 1 && k <= steps ? k : 0;
	k = gs->status - HH_RSCRIPT_REJECT_BASE;
	gs->rejected_step = k >= 1 && k <= steps ? k : 0;
	free(ss);
	return gs->status;
}

void hh_git_channel_scripted(hh_git_channel *ch, hh_git_script *gs)
{
	ch->open = sc_open;
	ch->read = sc_read;
	ch->write = sc_write;
	ch->close = sc_close;
	ch->ctx = gs;
	gs->status = -1;
}

void hh_git_script_release(hh_git_script *gs)
{
	hh_buf_release(&gs->err);
}
