/*
 * netopt: TCP_NODELAY and SO_KEEPALIVE on ssh connections. See netopt.h.
 */
#include "internal/netopt.h"

#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/socket.h>

int hh_sock_tune(int fd)
{
	int one = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		return -1;
	return setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
}

void hh_sock_quickack(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
}

static int peer_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -1;
}

int hh_sock_tune_peer_port(int port)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);
		int type = 0, nodelay = 0;
		socklen_t len = sizeof(type);

		if (*end || end == e->d_name || fd == dirfd(d))
			continue;
		if (getsockopt((int)fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
		    type != SOCK_STREAM || peer_port((int)fd) != port)
			continue;
		len = sizeof(nodelay);
		if (getsockopt((int)fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &len) < 0 || nodelay)
			continue;
		if (hh_sock_tune((int)fd) == 0)
			n++;
	}
	closedir(d);
	return n;
}
