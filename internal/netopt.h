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

/* Asks the kernel to acknowledge what arrives next at once (TCP_QUICKACK; Linux resets it on
 * its own, so it is set before each wait for the peer). The server's side may have Nagle on:
 * OpenSSH's sshd writes an unrequested message after authentication (hostkeys-00@openssh.com)
 * and then holds its answer to the first channel open until that message is acknowledged,
 * which a delayed ACK postpones by about 40 ms. Best effort: errors are ignored. */
void hh_sock_quickack(int fd);

/* For sockets opened by a library that does not hand out its descriptor (libgit2's own ssh
 * transport): tunes every TCP socket of this process whose peer port is port and which has
 * TCP_NODELAY off. Returns the number of sockets changed. */
int hh_sock_tune_peer_port(int port);

#endif
