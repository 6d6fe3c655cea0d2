/*
 * gitops_remote.c: an hh_git_channel over an hh_remote's streams, so that libgit2's smart
 * protocol to the fix host's repository rides on the job's own connection (one SSH session
 * for the whole heal). Kept apart from gitops.c so that only programs using it link remote.
 */
#include "internal/gitops.h"
#include "internal/remote.h"

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
