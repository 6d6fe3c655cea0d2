/*
 * internal/netopt.c on real loopback TCP connections: what each function promises to set is
 * read back with getsockopt().
 */
#include "internal/netopt.h"
#include "t.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

/* A listener on 127.0.0.1 and a client connected to it; *port is the listener's. */
static int pair(int *lfd, int *cfd, int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	*lfd = socket(AF_INET, SOCK_STREAM, 0);
	*cfd = socket(AF_INET, SOCK_STREAM, 0);
	if (*lfd < 0 || *cfd < 0 || bind(*lfd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(*lfd, 4) < 0 || getsockname(*lfd, (struct sockaddr *)&a, &len) < 0 ||
	    connect(*cfd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -1;
	*port = ntohs(a.sin_port);
	return 0;
}

static int opt(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);

	return getsockopt(fd, level, name, &v, &len) < 0 ? -1 : v;
}

TEST(netopt_tune_and_quickack)
{
	int lfd, cfd, port, zero = 0;

	REQUIRE(pair(&lfd, &cfd, &port) == 0);
	CHECK(opt(cfd, IPPROTO_TCP, TCP_NODELAY) == 0);
	CHECK(hh_sock_tune(cfd) == 0);
	CHECK(opt(cfd, IPPROTO_TCP, TCP_NODELAY) == 1);
	CHECK(opt(cfd, SOL_SOCKET, SO_KEEPALIVE) == 1);

	/* delayed ACKs on (the kernel's "pingpong" mode), then off again */
	CHECK(setsockopt(cfd, IPPROTO_TCP, TCP_QUICKACK, &zero, sizeof(zero)) == 0);
	CHECK(opt(cfd, IPPROTO_TCP, TCP_QUICKACK) == 0);
	hh_sock_quickack(cfd);
	CHECK(opt(cfd, IPPROTO_TCP, TCP_QUICKACK) == 1);
	hh_sock_quickack(-1); /* best effort: no crash, nothing to report */
	close(cfd);
	close(lfd);
}

TEST(netopt_tune_peer_port)
{
	int lfd, cfd, port;

	REQUIRE(pair(&lfd, &cfd, &port) == 0);
	CHECK(hh_sock_tune_peer_port(port) == 1);
	CHECK(opt(cfd, IPPROTO_TCP, TCP_NODELAY) == 1);
	CHECK(opt(cfd, SOL_SOCKET, SO_KEEPALIVE) == 1);
	CHECK(hh_sock_tune_peer_port(port) == 0);       /* already tuned */
	CHECK(opt(lfd, IPPROTO_TCP, TCP_NODELAY) == 0); /* the listener has no peer */
	close(cfd);
	close(lfd);
}
