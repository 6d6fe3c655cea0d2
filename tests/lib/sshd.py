"""A throw-away OpenSSH server on 127.0.0.1 for the integration tests.

    with Sshd() as s:          # or s = Sshd(); s.start(); ...; s.stop()
        s.port, s.known_hosts, s.user_key_ed25519, s.user_key_rsa, s.user
        s.host_spec("/srv/wt")  -> "ssh://USER@127.0.0.1:PORT/srv/wt"

Runs Debian's /usr/sbin/sshd as the current user (root in CI) in a temporary directory, with
its own host keys (ed25519 and RSA), two authorized user keys (ed25519 and RSA), key
authentication only, and an SFTP subsystem (Sshd(sftp=False): none, like a host whose
sshd_config lacks the Subsystem line). known_hosts holds "[127.0.0.1]:PORT key" lines
for both host keys. Python standard library only.
"""
import getpass
import os
import shutil
import socket
import subprocess
import tempfile
import time

SSHD = "/usr/sbin/sshd"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def keygen(path, kind):
    args = ["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", "healhook-test", "-f", path]
    if kind == "rsa":
        args[4:4] = ["-b", "2048"]
    subprocess.run(args, check=True, stdin=subprocess.DEVNULL)
    return path


class Sshd:
    def __init__(self, allow_ssh_rsa=True, sftp=True, home=None):
        # libssh2 1.10 signs with RSA keys using SHA-1 ("ssh-rsa") only, which OpenSSH >= 8.8
        # refuses by default: allow_ssh_rsa adds "PubkeyAcceptedAlgorithms +ssh-rsa".
        self.allow_ssh_rsa = allow_ssh_rsa
        self.sftp = sftp  # False: no "Subsystem sftp" line (a host without SFTP)
        # home: the HOME of the sessions (SetEnv HOME=...), for a fix host user whose home
        # holds ~/.local/bin without touching the real user's home.
        self.home = home
        self.dir = None
        self.proc = None
        self.port = None
        self.user = getpass.getuser()

    # -- lifecycle --
    def start(self):
        self.dir = tempfile.mkdtemp(prefix="hh-sshd-")
        os.chmod(self.dir, 0o755)
        d = self.dir
        self.host_key_ed25519 = keygen(os.path.join(d, "host_ed25519"), "ed25519")
        self.host_key_rsa = keygen(os.path.join(d, "host_rsa"), "rsa")
        self.user_key_ed25519 = keygen(os.path.join(d, "user_ed25519"), "ed25519")
        self.user_key_rsa = keygen(os.path.join(d, "user_rsa"), "rsa")
        self.authorized_keys = os.path.join(d, "authorized_keys")
        with open(self.authorized_keys, "w") as f:
            for k in (self.user_key_ed25519, self.user_key_rsa):
                f.write(open(k + ".pub").read())
        os.makedirs("/run/sshd", exist_ok=True)
        sftp = "/usr/lib/openssh/sftp-server"
        if not os.path.exists(sftp):
            sftp = "internal-sftp"
        self.port = free_port()
        self.config = os.path.join(d, "sshd_config")
        with open(self.config, "w") as f:
            f.write(
                "Port %d\nListenAddress 127.0.0.1\n"
                "HostKey %s\nHostKey %s\n"
                "AuthorizedKeysFile %s\n"
                "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
                "UsePAM no\nPidFile %s\nStrictModes no\n"
                "PermitRootLogin prohibit-password\n"
                "%sLogLevel ERROR\n"
                "MaxStartups 100\n%s%s"
                % (self.port, self.host_key_ed25519, self.host_key_rsa, self.authorized_keys,
                   os.path.join(d, "sshd.pid"),
                   "Subsystem sftp %s\n" % sftp if self.sftp else "",
                   "PubkeyAcceptedAlgorithms +ssh-rsa\n" if self.allow_ssh_rsa else "",
                   "SetEnv HOME=%s\n" % self.home if self.home else ""))
        self.log = open(os.path.join(d, "sshd.log"), "w")
        self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", self.config],
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("sshd exited: %s" % open(self.log.name).read())
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                break
            except OSError:
                if time.time() > deadline:
                    self.stop()
                    raise RuntimeError("sshd did not start on port %d" % self.port)
                time.sleep(0.05)
        self.known_hosts = os.path.join(d, "known_hosts")
        self.write_known_hosts(self.known_hosts, [self.host_key_ed25519, self.host_key_rsa])
        return self

    def stop(self):
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
            self.log.close()
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- helpers --
    def host_name(self):
        return "[127.0.0.1]:%d" % self.port

    def write_known_hosts(self, path, host_keys, name=None):
        """Writes NAME KEY lines for the public halves of host_keys (default name [127.0.0.1]:PORT)."""
        with open(path, "w") as f:
            for k in host_keys:
                kind, blob = open(k + ".pub").read().split()[:2]
                f.write("%s %s %s\n" % (name or self.host_name(), kind, blob))
        return path

    def fingerprint(self, key):
        """SHA256:... of a key file, as ssh-keygen prints it."""
        out = subprocess.run(["ssh-keygen", "-lf", key + ".pub"], check=True,
                             stdout=subprocess.PIPE, text=True).stdout
        return out.split()[1]

    def host_spec(self, path, user=None):
        return "ssh://%s@127.0.0.1:%d%s" % (user or self.user, self.port, path)
