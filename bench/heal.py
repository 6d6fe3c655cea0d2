"""Benchmark 2, heal overhead: `healhook heal` against bench/predecessor.sh on a loopback sshd.

Both fix the same finding (services/order_service.py, `# BUG:` line) in the same repository
with the same instant fixer (bench/instant-fixer, a sed script), so what is measured is the
overhead around the fixer: connections, git, transfers. Before every run the origin's branch
and the host's work tree are put back at the base commit (hyperfine --prepare). healhook's
connection count is its result's "connections"; the script's is its number of ssh calls.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

from common import BENCH, BIN, H, OUT, log, median
from lib.sshd import Sshd

TARGET = "services/order_service.py"
FILES = {
	TARGET: "def order_total(items):\n    s = 0\n    for i in items:\n        s += i\n"
		"    return totl  # BUG: return s\n",
	"services/other_service.py": "def other():\n    return 1\n",
	"README.md": "# shop-api\n",
}
for i in range(200):  # a repository of some size: 200 more modules
	FILES["app/mod_%03d.py" % i] = "".join("def f%d():\n    return %d\n" % (j, j) for j in range(20))


def write_config(tmp, sshd, host, extra=""):
	cfg = os.path.join(tmp, "healhook.conf")
	with open(cfg, "w") as f:
		f.write("[state]\n\tdir = %s\n" % os.path.join(tmp, "state"))
		f.write("[fixer]\n\tcommand = %s --model {model} --message-file {prompt} --yes-always "
			"--no-git {file}\n\ttimeout = 30\n" % os.path.join(BENCH, "instant-fixer"))
		f.write("[commit]\n\tname = healhook\n\temail = healhook@localhost\n")
		f.write('[repo "acme/shop-api"]\n\thost = %s\n\treviewers = bob\n' % sshd.host_spec(host))
		f.write("\tidentity = %s\n\tknown-hosts = %s\n" % (sshd.user_key_ed25519, sshd.known_hosts))
		f.write(extra)
	return cfg


def heal_argv(cfg, bin=None):
	return [bin or BIN, "heal", "--config", cfg, "--repo", "acme/shop-api", "--file", TARGET,
		"--type", "NameError", "--message", "name 'totl' is not defined", "--json"]


def reset_script(tmp, origin, host, base):
	path = os.path.join(tmp, "reset.sh")
	with open(path, "w") as f:
		f.write("#!/bin/sh\nset -e\ngit -C '%s' update-ref refs/heads/main %s\n"
			"git -C '%s' reset -q --hard %s\ngit -C '%s' update-ref refs/remotes/origin/main %s\n"
			"rm -rf '%s'\n" % (origin, base, host, base, host, base, os.path.join(tmp, "state")))
	os.chmod(path, 0o755)
	return path


def bench(args):
	tmp = tempfile.mkdtemp(prefix="hh-bench-heal-")
	os.chmod(tmp, 0o755)
	# The fix host's user has the dotfiles a Debian account starts with (/etc/skel): the
	# shell sshd starts for every channel reads them, so a development machine's own ~/.bashrc
	# (pyenv, cargo, ...: about 0.1 s here) would be timed once per channel, on both sides.
	home = os.path.join(tmp, "fixhost-home")
	os.makedirs(home)
	for dot in (".bashrc", ".profile"):
		if os.path.exists(os.path.join("/etc/skel", dot)):
			shutil.copy(os.path.join("/etc/skel", dot), home)
	sshd = Sshd(home=home).start()
	try:
		origin, host, base = H.make_origin_and_worktree(tmp, FILES)
		cfg = write_config(tmp, sshd, host)
		reset = reset_script(tmp, origin, host, base)
		env = dict(os.environ, HOME=tmp)
		# healhook's own figures: connections, stages (several runs, medians)
		results = []
		for _ in range(args.runs):
			subprocess.run([reset], check=True)
			p = subprocess.run(heal_argv(cfg), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
					   env=env, text=True, timeout=120)
			r = json.loads(p.stdout)
			if p.returncode != 0:
				raise RuntimeError("heal failed: %s %s" % (p.stdout, p.stderr))
			results.append(r)
		pre = [os.path.join(BENCH, "predecessor.sh"), str(sshd.port), sshd.user_key_ed25519,
		       sshd.known_hosts, sshd.user, host, "main", os.path.join(BENCH, "instant-fixer"),
		       TARGET]
		subprocess.run([reset], check=True)
		p = subprocess.run(pre, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
				   env=env, timeout=120)
		if p.returncode != 0:
			raise RuntimeError("predecessor failed: %s" % p.stderr)
		pre_conns = int(p.stderr.strip().rsplit("connections=", 1)[1])
		fixed = subprocess.run(["git", "-C", origin, "show", "main:" + TARGET],
				       stdout=subprocess.PIPE, text=True).stdout
		if "totl" in fixed:
			raise RuntimeError("predecessor did not fix the file")
		# wall times, hyperfine
		hf = os.path.join(tmp, "hyperfine.json")
		q = lambda a: " ".join("'%s'" % x.replace("'", "'\\''") for x in a)
		cmds = ["-n", "healhook heal", "env HOME=%s %s" % (tmp, q(heal_argv(cfg))),
			"-n", "predecessor.sh", "env HOME=%s %s" % (tmp, q(pre))]
		before = getattr(args, "before", None)
		if before:
			cmds += ["-n", "healhook before", "env HOME=%s %s" % (tmp, q(heal_argv(cfg, before)))]
		subprocess.run(["hyperfine", "-N", "--style", "none", "--runs", str(args.runs),
				"--prepare", reset, "--export-json", hf] + cmds,
			       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=600)
		with open(hf) as f:
			h = json.load(f)["results"]
		stages = {}
		for r in results:
			for k, v in (r.get("stages") or {}).items():
				stages.setdefault(k, []).append(v)
		out = {
			"runs": args.runs,
			"files": len(FILES),
			"healhook": {"wall_s": h[0]["median"], "wall_all": h[0]["times"],
				     "seconds": median([r["seconds"] for r in results]),
				     "connections": max(r["connections"] for r in results),
				     "channels": max(r.get("channels", 0) for r in results),
				     "stages_ms": {k: median(v) for k, v in stages.items()}},
			"predecessor": {"wall_s": h[1]["median"], "wall_all": h[1]["times"],
					"connections": pre_conns},
		}
		if before:
			out["before"] = {"wall_s": h[2]["median"], "wall_all": h[2]["times"]}
		log("heal: healhook %.3f s (%d connections), predecessor %.3f s (%d connections)" % (
			out["healhook"]["wall_s"], out["healhook"]["connections"],
			out["predecessor"]["wall_s"], pre_conns))
		return out
	finally:
		sshd.stop()
		shutil.rmtree(tmp, ignore_errors=True)
