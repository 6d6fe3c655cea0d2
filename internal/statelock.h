/*
 * statelock: one `serve` per state directory. An exclusive flock(2) on STATE_DIR/serve.lock,
 * held for the life of the process, which writes its PID into the file; a second serve on the
 * same directory finds the lock taken and reads the holder's PID from it. The kernel drops the
 * lock when the holder exits, even after kill -9, so a stale file never blocks a restart.
 */
#ifndef HH_STATELOCK_H
#define HH_STATELOCK_H

/* Creates dir (mode 0700) if missing and takes the lock. Returns the lock's file descriptor
 * (close-on-exec; keep it open), or -1 with the error set: "state directory 'D' is in use by
 * serve pid N" when another process holds it. */
int hh_state_lock(const char *dir);
void hh_state_unlock(int fd);

#endif
