/*
 * sdnotify: systemd's readiness protocol (Type=notify), spoken directly: a datagram to the
 * AF_UNIX socket named by $NOTIFY_SOCKET. Needs no libsystemd; does nothing when the variable
 * is unset (not started by systemd).
 */
#ifndef HH_SDNOTIFY_H
#define HH_SDNOTIFY_H

/* Sends state (e.g. "READY=1", "STOPPING=1"). Returns 1 sent, 0 not under systemd, -1 error. */
int hh_sd_notify(const char *state);

#endif
