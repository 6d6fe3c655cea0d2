"""A throw-away PostgreSQL 15 server on 127.0.0.1 for the integration tests.

    pg = Postgres().start()      # or shared(): one server for the whole test run
    pg.port, pg.user, pg.password_file
    pg.create_db("name") -> "postgresql://healhook@127.0.0.1:PORT/name"
    pg.query("name", "SELECT ...") -> rows (tuples of str/int/None)
    pg.restart(), pg.stop()

Runs Debian's /usr/lib/postgresql/15/bin (initdb, pg_ctl) in a temporary directory. initdb refuses
to run as root, so as root (CI) the cluster belongs to an unprivileged user ("postgres" when the
Debian package created it, else "nobody") and every server command runs through runuser. The
superuser is "healhook" with a random password (scram-sha-256 over TCP), kept in password_file
for healhook's [state] database-password-file. fsync is off: the tests restart the server
cleanly (pg_ctl -m fast), which loses nothing without fsync; only an OS crash would.
Clients use psql (postgresql-client). Python standard library only.

HEALHOOK_TEST_DB=postgresql in the environment makes harness.state_config() and
harness.db_query() use a database of the shared server instead of SQLite in the state directory
(tests/run.py runs the intake, heal and aftercare modules once more that way).
"""
import atexit
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile

BIN = "/usr/lib/postgresql/15/bin"


def free_port():
	with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
		s.bind(("127.0.0.1", 0))
		return s.getsockname()[1]


def backend():
	"""'postgresql' when the tests run against PostgreSQL, else 'sqlite'."""
	return "postgresql" if os.environ.get("HEALHOOK_TEST_DB") == "postgresql" else "sqlite"


def _quote(v):
	if v is None:
		return "NULL"
	if isinstance(v, bool):
		return "1" if v else "0"
	if isinstance(v, (int, float)):
		return repr(v)
	return "'" + str(v).replace("'", "''") + "'"


def bind(sql, params):
	"""sql with each ? replaced by a quoted literal of params (test queries only)."""
	out, it = [], iter(params)
	in_str = False
	for ch in sql:
		if ch == "'":
			in_str = not in_str
		if ch == "?" and not in_str:
			out.append(_quote(next(it)))
		else:
			out.append(ch)
	return "".join(out)


def _cell(v):
	if v == "\\N":
		return None
	if v.lstrip("-").isdigit() and len(v) < 19:
		return int(v)
	return v


class Postgres:
	def __init__(self, fsync=False):
		self.fsync = fsync  # on for benchmarks (a 2xx is then on disk, as with SQLite FULL)
		self.dir = None
		self.port = None
		self.user = "healhook"
		self.password = secrets.token_hex(12)
		self.owner = None

	def _as_owner(self, argv):
		if os.getuid() == 0:
			return ["runuser", "-u", self.owner, "--"] + argv
		return argv

	def _run(self, argv, check=True):
		p = subprocess.run(self._as_owner(argv), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
				   stdin=subprocess.DEVNULL, timeout=120)
		if check and p.returncode != 0:
			raise RuntimeError("%s failed (%d): %s" % (argv[0], p.returncode, p.stdout.decode()[-2000:]))
		return p

	def start(self):
		self.dir = tempfile.mkdtemp(prefix="hh-pg-")
		os.chmod(self.dir, 0o755)
		if os.getuid() == 0:
			try:
				pwd.getpwnam("postgres")
				self.owner = "postgres"
			except KeyError:
				self.owner = "nobody"
			ent = pwd.getpwnam(self.owner)
			os.chown(self.dir, ent.pw_uid, ent.pw_gid)
		self.data = os.path.join(self.dir, "data")
		pw = os.path.join(self.dir, "initdb.pw")
		with open(pw, "w") as f:
			f.write(self.password + "\n")
		if os.getuid() == 0:
			os.chown(pw, pwd.getpwnam(self.owner).pw_uid, -1)
		self._run([os.path.join(BIN, "initdb"), "-D", self.data, "-U", self.user, "--pwfile", pw,
			   "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync",
			   "--locale=C"])
		os.unlink(pw)
		# healhook's [state] database-password-file (readable by the tests' user, root or not).
		self.password_file = os.path.join(tempfile.mkdtemp(prefix="hh-pgpw-"), "password")
		with open(self.password_file, "w") as f:
			f.write(self.password + "\n")
		os.chmod(self.password_file, 0o600)
		self.port = free_port()
		self._pg_ctl_start()
		return self

	def _pg_ctl_start(self):
		opts = ("-h 127.0.0.1 -p %d -k %s -c fsync=%s -c synchronous_commit=on"
			" -c max_connections=400 -c shared_buffers=32MB -c log_min_messages=warning"
			% (self.port, self.dir, "on" if self.fsync else "off"))
		self._run([os.path.join(BIN, "pg_ctl"), "-D", self.data, "-l", os.path.join(self.dir, "log"),
			   "-o", opts, "-w", "-t", "60", "start"])

	def stop(self):
		if self.dir and os.path.exists(os.path.join(self.data, "postmaster.pid")):
			self._run([os.path.join(BIN, "pg_ctl"), "-D", self.data, "-m", "immediate", "-w",
				   "stop"], check=False)
		if self.dir:
			shutil.rmtree(self.dir, ignore_errors=True)
			shutil.rmtree(os.path.dirname(self.password_file), ignore_errors=True)
			self.dir = None

	def shutdown(self):
		"""Stops the server cleanly (the data stays: start_again() brings it back)."""
		self._run([os.path.join(BIN, "pg_ctl"), "-D", self.data, "-m", "fast", "-w", "stop"])

	def start_again(self):
		self._pg_ctl_start()

	def restart(self):
		self.shutdown()
		self.start_again()

	def url(self, db):
		return "postgresql://%s@127.0.0.1:%d/%s" % (self.user, self.port, db)

	def psql(self, db, sql):
		env = dict(os.environ, PGPASSWORD=self.password)
		p = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-P", "null=\\N",
				    "-F", "\x1f", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user,
				    "-d", db, "-c", sql], env=env, stdout=subprocess.PIPE,
				   stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=60)
		if p.returncode != 0:
			raise RuntimeError("psql: %s: %s" % (sql[:200], p.stderr.decode()))
		return p.stdout.decode()

	def query(self, db, sql, params=()):
		out = self.psql(db, bind(sql, params))
		return [tuple(_cell(c) for c in line.split("\x1f")) for line in out.splitlines()]

	def create_db(self, name):
		if not self.query("postgres", "SELECT 1 FROM pg_database WHERE datname = ?", (name,)):
			self.psql("postgres", 'CREATE DATABASE "%s"' % name)
		return self.url(name)

	def __enter__(self):
		return self.start()

	def __exit__(self, *exc):
		self.stop()


_shared = None


def shared():
	"""One server for the whole test run, stopped when the interpreter exits."""
	global _shared
	if _shared is None:
		_shared = Postgres().start()
		atexit.register(_shared.stop)
	return _shared
