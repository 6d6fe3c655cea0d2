"""internal/remote over a REAL sshd on 127.0.0.1 (tests/lib/sshd.py), driven by
build/tools/remote_probe: connect and host-key/auth refusals, exec (argv quoting, status,
signals, time-out that kills the remote process group), SFTP files, streams, one TCP
connection per handle."""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from lib.sshd import Sshd, keygen  # noqa: E402

ROOT = os.environ.get("HEALHOOK_ROOT",
                      os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PROBE = os.path.join(ROOT, os.environ.get("HEALHOOK_BUILD", "build"), "tools", "remote_probe")

KIND_MISSING, KIND_REGULAR, KIND_DIR, KIND_SYMLINK = 0, 1, 2, 3


def parse(out):
    d = {"entries": []}
    for line in out.splitlines():
        k, _, v = line.partition("=")
        if k == "entry":
            kind, size, path = v.split(" ", 2)
            d["entries"].append((path, int(kind), int(size)))
        elif k.endswith("_hex"):
            d[k[:-4]] = bytes.fromhex(v)
        else:
            d[k] = v
    return d


def pgrep(marker):
    return subprocess.run(["pgrep", "-f", marker], stdout=subprocess.PIPE).returncode == 0


@unittest.skipUnless(os.path.exists(PROBE), "build/tools/remote_probe not built")
class RemoteSshTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sshd = Sshd().start()
        cls.tmp = tempfile.mkdtemp(prefix="hh-remote-")

    @classmethod
    def tearDownClass(cls):
        cls.sshd.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def probe(self, *args, key=None, known_hosts=None, spec=None, ok=True, timeout=60):
        s = self.sshd
        p = subprocess.run([PROBE, spec or s.host_spec(self.tmp), key or s.user_key_ed25519,
                            known_hosts or s.known_hosts] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=timeout)
        d = parse(p.stdout)
        d["exit"] = p.returncode
        if ok:
            self.assertEqual(p.returncode, 0, "probe %s failed: %s %s" % (args, p.stdout, p.stderr))
        else:
            self.assertNotEqual(p.returncode, 0, "probe %s succeeded: %s" % (args, p.stdout))
            self.assertIn("error", d)
        return d

    def host_fingerprints(self):
        return {self.sshd.fingerprint(self.sshd.host_key_ed25519),
                self.sshd.fingerprint(self.sshd.host_key_rsa)}

    # -- connect, host keys, auth --
    def test_connect_ed25519(self):
        d = self.probe("connect")
        self.assertEqual(d["connections"], "1")
        self.assertEqual(d["is_ssh"], "1")
        self.assertEqual(d["path"], self.tmp)

    def test_connect_rsa(self):
        d = self.probe("connect", key=self.sshd.user_key_rsa)
        self.assertEqual(d["connections"], "1")

    def test_unknown_host_key_refused_with_fingerprint(self):
        kh = self.sshd.write_known_hosts(os.path.join(self.tmp, "kh-other"),
                                         [self.sshd.host_key_ed25519, self.sshd.host_key_rsa],
                                         name="[127.0.0.1]:1")
        d = self.probe("connect", known_hosts=kh, ok=False)
        self.assertIn("host key for [127.0.0.1]:%d is not in %s" % (self.sshd.port, kh), d["error"])
        self.assertTrue(any("(%s)" % fp in d["error"] for fp in self.host_fingerprints()), d["error"])

    def test_portless_entry_does_not_match_other_port(self):
        kh = self.sshd.write_known_hosts(os.path.join(self.tmp, "kh-noport"),
                                         [self.sshd.host_key_ed25519, self.sshd.host_key_rsa],
                                         name="127.0.0.1")
        d = self.probe("connect", known_hosts=kh, ok=False)
        self.assertIn("is not in", d["error"])

    def test_changed_host_key_refused(self):
        kdir = tempfile.mkdtemp(dir=self.tmp)
        other = [keygen(os.path.join(kdir, "e"), "ed25519"), keygen(os.path.join(kdir, "r"), "rsa")]
        kh = self.sshd.write_known_hosts(os.path.join(kdir, "kh"), other)
        d = self.probe("connect", known_hosts=kh, ok=False)
        self.assertIn("host key for [127.0.0.1]:%d does not match" % self.sshd.port, d["error"])
        self.assertTrue(any("(%s)" % fp in d["error"] for fp in self.host_fingerprints()), d["error"])

    def test_missing_known_hosts_refused(self):
        d = self.probe("connect", known_hosts=os.path.join(self.tmp, "nope"), ok=False)
        self.assertIn("known hosts", d["error"])

    def test_wrong_user_key(self):
        key = keygen(os.path.join(tempfile.mkdtemp(dir=self.tmp), "stranger"), "ed25519")
        d = self.probe("connect", key=key, ok=False)
        self.assertIn("ssh authentication failed for %s@127.0.0.1 with key %s"
                      % (self.sshd.user, key), d["error"])

    def test_connection_refused(self):
        from lib.sshd import free_port
        port = free_port()
        d = self.probe("connect", spec="ssh://%s@127.0.0.1:%d/tmp" % (self.sshd.user, port),
                       ok=False)
        self.assertIn("cannot connect to 127.0.0.1:%d" % port, d["error"])

    # -- exec --
    def test_exec_hostile_argv_verbatim(self):
        marker = os.path.join(self.tmp, "pwned")
        words = ['"; touch %s; echo "' % marker, "$(touch %s)" % marker, "`touch %s`" % marker,
                 "it's '; touch %s; '" % marker, "a\nb", "$HOME *"]
        d = self.probe("exec", "--", "printf", "%s|", *words)
        self.assertEqual(d["status"], "0")
        self.assertEqual(d["out"].decode(), "".join(w + "|" for w in words))
        self.assertFalse(os.path.exists(marker))

    def test_exec_status_stderr_stdin_cwd(self):
        d = self.probe("exec", "--", "sh", "-c", "pwd; echo oops >&2; exit 7")
        self.assertEqual(d["status"], "7")
        self.assertEqual(d["signal"], "0")
        self.assertEqual(d["out"], (self.tmp + "\n").encode())
        self.assertEqual(d["err"], b"oops\n")  # the pid line is stripped
        d = self.probe("exec", "--stdin", "hello\n", "--", "tr", "a-z", "A-Z")
        self.assertEqual(d["out"], b"HELLO\n")
        d = self.probe("exec", "--", "cat")  # no stdin: EOF at once, no hang
        self.assertEqual(d["status"], "0")
        d = self.probe("exec", "--cwd", "/", "--", "pwd")
        self.assertEqual(d["out"], b"/\n")
        d = self.probe("exec", "--", "no-such-command-hh")
        self.assertEqual(d["status"], "127")

    def test_exec_env(self):
        d = self.probe("exec", "--clean-env", "--env", "HH_X=a b;$(id)", "--", "env")
        self.assertEqual(d["out"], b"PATH=/usr/local/bin:/usr/bin:/bin\nHH_X=a b;$(id)\n")
        d = self.probe("exec", "--env", "HH_X=1", "--", "env")
        self.assertIn(b"HH_X=1\n", d["out"])
        self.assertIn(b"HOME=", d["out"])

    def test_exec_killed_by_signal_not_zero(self):
        d = self.probe("exec", "--", "sh", "-c", "kill -KILL $$")
        self.assertEqual(d["status"], "-1")
        self.assertEqual(d["signal"], "9")
        self.assertEqual(d["timed_out"], "0")

    def test_exec_output_cap_keeps_tail(self):
        d = self.probe("exec", "--cap", "100", "--", "sh", "-c", "seq 1 100000; echo END")
        self.assertEqual(d["truncated"], "1")
        self.assertEqual(len(d["out"]), 100)
        self.assertTrue(d["out"].endswith(b"100000\nEND\n"))

    def test_exec_timeout_kills_remote_group(self):
        marker = "%d%d" % (os.getpid(), int(time.time() * 1000) % 100000)
        # the shell and its children ignore TERM: only the KILL that follows stops them
        script = "trap '' TERM; sleep %s & sleep %s; echo never" % (marker, marker)
        t0 = time.time()
        d = self.probe("exec", "--timeout", "1000", "--", "sh", "-c", script)
        self.assertLess(time.time() - t0, 1 + 2 + 4)
        self.assertEqual(d["timed_out"], "1")
        self.assertNotEqual(d["status"], "0")
        self.assertNotIn(b"never", d["out"])
        time.sleep(0.3)
        self.assertFalse(pgrep("sleep " + marker), "remote processes survived the time-out")

    def test_exec_in_time_not_timed_out(self):
        d = self.probe("exec", "--timeout", "5000", "--", "sh", "-c", "exit 3")
        self.assertEqual(d["status"], "3")
        self.assertEqual(d["timed_out"], "0")

    # -- files --
    def test_files(self):
        d = self.probe("mkdtemp", self.tmp)
        top = d["path"]
        self.assertTrue(top.startswith(self.tmp + "/healhook-"))
        self.assertEqual(os.stat(top).st_mode & 0o777, 0o700)
        f = os.path.join(top, "a", "b", "c.txt")
        self.probe("write", f, "hello 'world'\n", "640")
        self.assertEqual(open(f).read(), "hello 'world'\n")
        self.assertEqual(os.stat(f).st_mode & 0o777, 0o640)
        self.probe("write", f, "short", "600")  # truncates
        self.assertEqual(open(f).read(), "short")
        self.assertEqual(self.probe("read", f, "100")["data"], b"short")
        self.assertIn("larger", self.probe("read", f, "3", ok=False)["error"])
        d = self.probe("stat", f)
        self.assertEqual((int(d["kind"]), int(d["size"])), (KIND_REGULAR, 5))
        self.assertEqual(int(self.probe("stat", top)["kind"]), KIND_DIR)
        self.assertEqual(int(self.probe("stat", top + "/nope")["kind"]), KIND_MISSING)
        link = os.path.join(top, "a", "link")
        os.symlink("/etc/passwd", link)
        self.assertEqual(int(self.probe("stat", link)["kind"]), KIND_SYMLINK)
        self.assertIn("symlink", self.probe("read", link, "100000", ok=False)["error"])
        self.assertIn("symlink", self.probe("write", link, "x", "644", ok=False)["error"])
        self.assertEqual(self.probe("list", top)["entries"], [
            ("a", KIND_DIR, 0), ("a/b", KIND_DIR, 0), ("a/b/c.txt", KIND_REGULAR, 5),
            ("a/link", KIND_SYMLINK, len("/etc/passwd"))])
        outside = tempfile.mkdtemp(dir=self.tmp)
        open(os.path.join(outside, "keep"), "w").write("k")
        os.symlink(outside, os.path.join(top, "a", "dirlink"))
        self.probe("rmtree", top)
        self.assertFalse(os.path.exists(top))
        self.assertTrue(os.path.exists(os.path.join(outside, "keep")))
        self.assertTrue(os.path.exists("/etc/passwd"))

    # -- streams, connections --
    def test_stream_cat_roundtrip(self):
        text = "".join("line %d with 'quotes' and $(x)\n" % i for i in range(500))
        d = self.probe("stream-cat", text)
        self.assertEqual(d["data"].decode(), text)
        self.assertEqual(d["status"], "0")
        self.assertEqual(d["connections"], "1")

    def test_one_connection_for_many_execs(self):
        d = self.probe("many-execs", "25")
        self.assertEqual(d["execs"], "25")
        self.assertEqual(d["connections"], "1")


@unittest.skipUnless(os.path.exists(PROBE), "build/tools/remote_probe not built")
class RemoteSshRsaSha1Test(unittest.TestCase):
    """libssh2 1.10 cannot sign with rsa-sha2-*: a stock OpenSSH refuses RSA keys, clearly."""

    def test_rsa_refused_with_hint(self):
        with Sshd(allow_ssh_rsa=False) as s:
            p = subprocess.run([PROBE, s.host_spec("/tmp"), s.user_key_rsa, s.known_hosts,
                                "connect"], stdout=subprocess.PIPE, text=True, timeout=60)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("ssh authentication failed for %s@127.0.0.1 with key %s"
                          % (s.user, s.user_key_rsa), p.stdout)
            self.assertIn("ed25519", p.stdout)
            p = subprocess.run([PROBE, s.host_spec("/tmp"), s.user_key_ed25519, s.known_hosts,
                                "connect"], stdout=subprocess.PIPE, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stdout)


if __name__ == "__main__":
    unittest.main()
