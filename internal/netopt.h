/*
 * netopt: socket options for the connections healhook opens to ssh servers.
 *
 * SSH is a request/answer protocol of small writes: with Nagle's algorithm on, a write that
 * follows an unacknowledged one waits for the peer's delayed ACK (about 40 ms on Linux), once
 * per exchange. TCP_NODELAY turns that off; SO_KEEPALIVE lets a connection to a vanished host
 * fail instead of hanging while a long fixer run keeps it idle.
 */
#ifndef HH_NETOPT_H
#define HH_NETOPT_H

/* Sets TCP_NODELAY and SO_KEEPALIVE on a connected TCP socket. Returns 0 or -1 (errno). */
int hh_sock_tune(int fd);

/* For sockets opened by a library that does not hand out its descriptor (libgit2's own ssh
 * transport): tunes every TCP socket of this process whose peer port is port and which has
 * TCP_NODELAY off. Returns the number of sockets changed. */
int hh_sock_tune_peer_port(int port);

#endif
