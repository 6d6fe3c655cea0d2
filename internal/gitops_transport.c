/*
 * gitops_transport.c: fetch into and push from a mirror (libgit2).
 *
 * A peer is a URL (libgit2's own ssh/https/local transports) or a repository behind an
 * hh_git_channel. For a channel, a per-remote transport factory (git_remote_callbacks.transport,
 * so nothing is registered process-wide) wraps a smart subtransport whose streams run
 * git-upload-pack / git-receive-pack through the channel: libgit2 speaks the protocol, the
 * channel only moves bytes.
 *
 * libgit2 traps handled here: the ssh host key is checked by our certificate_check against a
 * known_hosts file we name (libgit2 alone only reads ~/.ssh/known_hosts); the credentials
 * callback is called again after every failed attempt, so it is capped; git_remote_push
 * returns 0 when the remote refuses a ref, so push_update_reference records the refusal; a
 * raw SHA cannot be pushed, so a local ref is pointed at it first.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <git2/sys/transport.h>

#include "internal/gitops_int.h"
#include "internal/knownhosts.h"
#include "internal/log.h"
#include "internal/netopt.h"

#define REMOTE_MSG_CAP 4096

/* State shared by every callback of one fetch or push (the callbacks' payload). */
struct op_ctx {
	const hh_git_peer *peer;
	int cred_attempts;
	hh_buf why;        /* our reason for a callback failure (overrides libgit2's words) */
	hh_buf remote_msg; /* "remote:" side-band output, capped */
	hh_buf refused;    /* "refs/heads/x: reason" per ref the remote refused */
	int chan_failed;   /* the channel itself failed (its error is in libgit2's) */
	int answered;      /* the channel's service sent at least one byte */
	int nonff;         /* a ref refused as "non-fast-forward" (receive-pack's reason token) */
};

static void op_ctx_release(struct op_ctx *c)
{
	hh_buf_release(&c->why);
	hh_buf_release(&c->remote_msg);
	hh_buf_release(&c->refused);
}

/* The peer as named in messages: the URL without a password, or "host:PATH". */
static void peer_name(hh_buf *b, const hh_git_peer *p)
{
	const char *at, *scheme;

	if (!p->url) {
		hh_buf_printf(b, "host:%s", p->path ? p->path : "?");
		return;
	}
	scheme = strstr(p->url, "://");
	at = scheme ? strchr(scheme + 3, '@') : NULL;
	if (scheme && at && memchr(scheme + 3, ':', (size_t)(at - scheme - 3)) &&
	    !memchr(scheme + 3, '/', (size_t)(at - scheme - 3))) {
		hh_buf_put(b, p->url, (size_t)(scheme + 3 - p->url));
		hh_buf_printf(b, "***%s", at);
		return;
	}
	hh_buf_puts(b, p->url);
}

/* The port of an ssh:// URL (22 for scp-like URLs or when none is given). */
static int url_port(const char *url)
{
	const char *p, *slash, *colon;

	if (!url || strncmp(url, "ssh://", 6) != 0)
		return 22;
	p = url + 6;
	slash = strchr(p, '/');
	if (!slash)
		slash = p + strlen(p);
	colon = memrchr(p, ':', (size_t)(slash - p));
	if (colon && (!strchr(p, ']') || colon > strchr(p, ']')))
		return atoi(colon + 1) > 0 ? atoi(colon + 1) : 22;
	return 22;
}

static int certificate_cb(git_cert *cert, int valid, const char *host, void *payload)
{
	struct op_ctx *c = payload;
	git_cert_hostkey *hk = (git_cert_hostkey *)cert;

	(void)valid;
	if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2)
		return GIT_PASSTHROUGH; /* TLS: libgit2's own verification decides */
	hh_buf_clear(&c->why);
	if (!c->peer->known_hosts) {
		hh_buf_printf(&c->why, "no known-hosts file configured for ssh host %s", host);
		return GIT_ECERTIFICATE;
	}
	if (!(hk->type & GIT_CERT_SSH_RAW)) {
		hh_buf_printf(&c->why, "no raw host key offered by %s", host);
		return GIT_ECERTIFICATE;
	}
	/* libgit2 opened the socket itself: no Nagle (see netopt.h) before any real exchange */
	hh_sock_tune_peer_port(url_port(c->peer->url));
	if (hh_known_hosts_check(c->peer->known_hosts, host, url_port(c->peer->url), hk->hostkey,
				 hk->hostkey_len, NULL) == 0)
		return 0;
	hh_buf_puts(&c->why, hh_error_last());
	return GIT_ECERTIFICATE;
}

/* ---- credentials ---- */

static int credentials_cb(git_credential **out, const char *url, const char *url_user,
			  unsigned int allowed, void *payload)
{
	struct op_ctx *c = payload;
	const hh_git_peer *p = c->peer;
	const char *user;

	(void)url;
	if ((allowed & GIT_CREDENTIAL_USERNAME) && !(allowed & GIT_CREDENTIAL_SSH_KEY))
		return git_credential_username_new(out, url_user  ? url_user
							: p->user ? p->user
								  : "git");
	if (++c->cred_attempts > 1) {
		hh_buf_clear(&c->why);
		hh_buf_printf(&c->why, "authentication failed%s%s", p->identity ? " with key " : "",
			      p->identity ? p->identity : "");
		return GIT_EUSER;
	}
	if ((allowed & GIT_CREDENTIAL_SSH_KEY) && p->identity) {
		hh_buf pub = HH_BUF_INIT;
		int rc;

		user = url_user ? url_user : p->user ? p->user : "git";
		hh_buf_printf(&pub, "%s.pub", p->identity);
		rc = git_credential_ssh_key_new(
			out, user, access(pub.ptr, R_OK) == 0 ? pub.ptr : NULL, p->identity, NULL);
		hh_buf_release(&pub);
		return rc;
	}
	if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && p->token) {
		user = url_user ? url_user : p->user ? p->user : "healhook";
		return git_credential_userpass_plaintext_new(out, user, p->token);
	}
	hh_buf_clear(&c->why);
	hh_buf_puts(&c->why, (allowed & GIT_CREDENTIAL_SSH_KEY) ? "no ssh identity configured"
								: "no token configured");
	return GIT_EUSER;
}

static int sideband_cb(const char *str, int len, void *payload)
{
	struct op_ctx *c = payload;

	if (len > 0 && c->remote_msg.len < REMOTE_MSG_CAP)
		hh_buf_put(&c->remote_msg, str,
			   (size_t)len < REMOTE_MSG_CAP - c->remote_msg.len
				   ? (size_t)len
				   : REMOTE_MSG_CAP - c->remote_msg.len);
	return 0;
}

/* Drops trailing newlines and spaces of the captured remote output. */
static void trim_end(hh_buf *b)
{
	while (b->len > 0 && (b->ptr[b->len - 1] == '\n' || b->ptr[b->len - 1] == '\r' ||
			      b->ptr[b->len - 1] == ' '))
		b->ptr[--b->len] = '\0';
}

static int push_ref_cb(const char *refname, const char *status, void *payload)
{
	struct op_ctx *c = payload;

	if (status) {
		hh_buf_printf(&c->refused, "%s%s: %s", c->refused.len ? "; " : "", refname, status);
		c->nonff |= strcmp(status, "non-fast-forward") == 0;
	}
	return 0;
}

/* ---- the channel subtransport ---- */

struct chan_sub;

struct chan_stream {
	git_smart_subtransport_stream parent;
	struct chan_sub *sub;
	void *s;
	const char *service;
	size_t received;
};

struct chan_sub {
	git_smart_subtransport parent;
	struct op_ctx *ctx;
	struct chan_stream *current;
};

static int chan_read(git_smart_subtransport_stream *stream, char *buf, size_t len, size_t *n)
{
	struct chan_stream *cs = (struct chan_stream *)stream;
	const hh_git_channel *ch = cs->sub->ctx->peer->channel;
	ssize_t r = ch->read(cs->s, buf, len);

	if (r < 0) {
		cs->sub->ctx->chan_failed = 1;
		git_error_set_str(GIT_ERROR_NET, hh_error_last());
		return -1;
	}
	if (r == 0 && cs->received == 0) {
		cs->sub->ctx->chan_failed = 1;
		/* The service ended without a word: its stderr stays on the host side. */
		git_error_set(GIT_ERROR_NET,
			      "%s '%s' on the host ended without a reply (is it a git "
			      "repository?)",
			      cs->service, cs->sub->ctx->peer->path);
		return -1;
	}
	cs->received += (size_t)r;
	cs->sub->ctx->answered |= r > 0;
	*n = (size_t)r;
	return 0;
}

static int chan_write(git_smart_subtransport_stream *stream, const char *buf, size_t len)
{
	struct chan_stream *cs = (struct chan_stream *)stream;
	const hh_git_channel *ch = cs->sub->ctx->peer->channel;

	if (ch->write(cs->s, buf, len) < 0) {
		/* libgit2 says goodbye with a flush to a service that may have ended: harmless.
		 * A flush lost mid-protocol shows up as an early EOF on the next read. */
		if (len == 4 && memcmp(buf, "0000", 4) == 0)
			return 0;
		cs->sub->ctx->chan_failed = 1;
		git_error_set_str(GIT_ERROR_NET, hh_error_last());
		return -1;
	}
	return 0;
}

static void chan_stream_free(git_smart_subtransport_stream *stream)
{
	struct chan_stream *cs = (struct chan_stream *)stream;

	cs->sub->ctx->peer->channel->close(cs->s);
	if (cs->sub->current == cs)
		cs->sub->current = NULL;
	free(cs);
}

static int chan_action(git_smart_subtransport_stream **out, git_smart_subtransport *t,
		       const char *url, git_smart_service_t action)
{
	struct chan_sub *sub = (struct chan_sub *)t;
	const hh_git_peer *p = sub->ctx->peer;
	const char *argv[3] = {NULL, p->path, NULL};
	struct chan_stream *cs;

	(void)url;
	if (action == GIT_SERVICE_UPLOADPACK || action == GIT_SERVICE_RECEIVEPACK) {
		if (!sub->current) {
			sub->ctx->chan_failed = 1;
			git_error_set_str(GIT_ERROR_NET, "no git service running on the channel");
			return -1;
		}
		*out = &sub->current->parent;
		return 0;
	}
	argv[0] = action == GIT_SERVICE_UPLOADPACK_LS ? "git-upload-pack" : "git-receive-pack";
	if (sub->current)
		chan_stream_free(&sub->current->parent);
	cs = calloc(1, sizeof(*cs));
	if (!cs) {
		git_error_set_oom();
		return -1;
	}
	if (p->channel->open(p->channel->ctx, argv, &cs->s) < 0) {
		sub->ctx->chan_failed = 1;
		git_error_set_str(GIT_ERROR_NET, hh_error_last());
		free(cs);
		return -1;
	}
	cs->parent.subtransport = t;
	cs->parent.read = chan_read;
	cs->parent.write = chan_write;
	cs->parent.free = chan_stream_free;
	cs->sub = sub;
	cs->service = argv[0];
	sub->current = cs;
	*out = &cs->parent;
	return 0;
}

static int chan_close(git_smart_subtransport *t)
{
	struct chan_sub *sub = (struct chan_sub *)t;

	if (sub->current)
		chan_stream_free(&sub->current->parent);
	return 0;
}

static void chan_free(git_smart_subtransport *t)
{
	chan_close(t);
	free(t);
}

static int chan_sub_new(git_smart_subtransport **out, git_transport *owner, void *param)
{
	struct chan_sub *sub = calloc(1, sizeof(*sub));

	(void)owner;
	if (!sub) {
		git_error_set_oom();
		return -1;
	}
	sub->parent.action = chan_action;
	sub->parent.close = chan_close;
	sub->parent.free = chan_free;
	sub->ctx = param;
	*out = &sub->parent;
	return 0;
}

/* git_remote_callbacks.transport: a smart transport over the peer's channel (stateful, like
 * ssh: one stream per service). The definition is read at once, so it may live on the stack. */
static int chan_transport_cb(git_transport **out, git_remote *owner, void *param)
{
	git_smart_subtransport_definition def = {chan_sub_new, 0, param};

	return git_transport_smart(out, owner, &def);
}

/* ---- fetch and push ---- */

static int setup(hh_mirror *m, const hh_git_peer *p, struct op_ctx *c, git_remote **remote,
		 git_remote_callbacks *cb)
{
	git_remote_create_options ro;
	hh_buf url = HH_BUF_INIT;
	int rc = -1;

	if (!p || (!p->url && (!p->channel || !p->path))) {
		hh_error("git: a peer needs a url, or a channel and a path");
		goto out;
	}
	c->peer = p;
	if (p->url)
		hh_buf_puts(&url, p->url);
	else
		hh_buf_printf(&url, "healhook-host://%s", p->path);
	/* Anonymous, and no url.*.insteadOf rewriting: the peer is exactly what was configured
	 * (and libgit2 1.5.1 leaks PCRE2 match data on that config lookup). */
	if (git_remote_create_options_init(&ro, GIT_REMOTE_CREATE_OPTIONS_VERSION) < 0) {
		hh_git_error("git: cannot prepare remote");
		goto out;
	}
	ro.repository = m->repo;
	ro.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	if (git_remote_create_with_opts(remote, url.ptr, &ro) < 0) {
		hh_git_error("git: invalid remote '%s'", p->url ? p->url : p->path);
		goto out;
	}
	cb->credentials = credentials_cb;
	cb->certificate_check = certificate_cb;
	cb->sideband_progress = sideband_cb;
	cb->push_update_reference = push_ref_cb;
	cb->payload = c;
	if (!p->url)
		cb->transport = chan_transport_cb;
	rc = 0;
out:
	hh_buf_release(&url);
	return rc;
}

/* "git: cannot <what> X: <reason>", the reason being ours (callbacks) or libgit2's. */
static int op_error(struct op_ctx *c, const char *what, const char *extra)
{
	hh_buf name = HH_BUF_INIT;
	int rc;

	peer_name(&name, c->peer);
	trim_end(&c->remote_msg);
	rc = hh_error("git: cannot %s %s: %s%s%s%s", what, name.ptr,
		      c->why.len ? c->why.ptr : hh_git_msg(), extra ? extra : "",
		      c->remote_msg.len ? "; remote said: " : "",
		      c->remote_msg.len ? c->remote_msg.ptr : "");
	hh_buf_release(&name);
	return rc;
}

/*
 * 1 when libgit2's smart protocol refused what the host's git service said: a network-class
 * error raised by neither our callbacks nor the channel, after the service answered over the
 * channel. libgit2 1.5 fails so on a shallow host repository ("error parsing REF pkt-line"),
 * and has no finer signal for it: every pkt-line parse error is GIT_ERROR_NET, returned as
 * GIT_ERROR, as are its other protocol errors (early EOF), hence the question in the hint.
 */
static int protocol_refused(const struct op_ctx *c)
{
	const git_error *e = git_error_last();

	return c->peer && c->peer->channel && e && e->klass == GIT_ERROR_NET && !c->why.len &&
	       !c->chan_failed && c->answered;
}

static int local_is_shallow(const char *url)
{
	hh_buf b = HH_BUF_INIT;
	int r;

	if (strstr(url, "://") && strncmp(url, "file://", 7) != 0)
		return 0;
	if (strncmp(url, "file://", 7) == 0)
		url += 7;
	hh_buf_printf(&b, "%s/shallow", url);
	r = access(b.ptr, F_OK) == 0;
	hh_buf_clear(&b);
	hh_buf_printf(&b, "%s/.git/shallow", url);
	r |= access(b.ptr, F_OK) == 0;
	hh_buf_release(&b);
	return r;
}

int hh_mirror_fetch(hh_mirror *m, const hh_git_peer *peer, const char *refspec)
{
	struct op_ctx c = {0};
	git_remote *remote = NULL;
	git_fetch_options fo;
	char *spec = (char *)(refspec ? refspec : "+refs/heads/*:refs/heads/*");
	git_strarray specs = {&spec, 1};
	int rc = -1;

	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	if (setup(m, peer, &c, &remote, &fo.callbacks) < 0)
		goto out;
	if (peer->url && local_is_shallow(peer->url)) {
		hh_error(
			"git: cannot fetch from %s: host repository is shallow; libgit2 needs full "
			"history (run `git fetch --unshallow` there)",
			peer->url);
		goto out;
	}
	fo.prune = GIT_FETCH_PRUNE;
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	fo.update_fetchhead = 0;
	if (git_remote_fetch(remote, &specs, &fo, "healhook: fetch") < 0) {
		op_error(&c, "fetch from",
			 protocol_refused(&c)
				 ? " (is the host repository shallow? libgit2 needs full history)"
				 : NULL);
		goto out;
	}
	rc = 0;
out:
	git_remote_free(remote);
	op_ctx_release(&c);
	return rc;
}

/* The last error again, with code HH_EREJECTED; returns it. */
static int rejected(void)
{
	char *m = hh_strdup(hh_error_last());
	int rc = hh_fail(HH_EREJECTED, "%s", m ? m : "git: push refused: not a fast-forward");

	free(m);
	return rc;
}

int hh_mirror_push(hh_mirror *m, const hh_git_peer *peer, const char *sha, const char *local_ref,
		   const char *remote_ref, int force)
{
	struct op_ctx c = {0};
	git_remote *remote = NULL;
	git_push_options po;
	hh_buf spec = HH_BUF_INIT, name = HH_BUF_INIT;
	char *s;
	git_strarray specs = {&s, 1};
	int rc = -1, e;

	git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
	if (hh_mirror_set_ref(m, local_ref, sha) < 0 ||
	    hh_buf_printf(&spec, "%s%s:%s", force ? "+" : "", local_ref, remote_ref) < 0 ||
	    setup(m, peer, &c, &remote, &po.callbacks) < 0)
		goto out;
	s = spec.ptr;
	if ((e = git_remote_push(remote, &specs, &po)) < 0) {
		/* libgit2's own check: the remote's tip is no ancestor of sha, or unknown here */
		op_error(&c, "push to", e == GIT_ENONFASTFORWARD ? " (non-fast-forward)" : NULL);
		if (e == GIT_ENONFASTFORWARD)
			rc = rejected();
		goto out;
	}
	if (c.refused.len) {
		peer_name(&name, peer);
		trim_end(&c.remote_msg);
		hh_error("git: push to %s refused: %s%s%s", name.ptr, c.refused.ptr,
			 c.remote_msg.len ? "; remote said: " : "",
			 c.remote_msg.len ? c.remote_msg.ptr : "");
		if (c.nonff)
			rc = rejected();
		goto out;
	}
	rc = 0;
out:
	git_remote_free(remote);
	hh_buf_release(&spec);
	hh_buf_release(&name);
	op_ctx_release(&c);
	return rc;
}
