#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""hyperaetherd and the CLI's run/gen/fabric/top without devices (--engine cpu).

Environment: HA_DAEMON, HA_CLI (the binaries), HA_WORK (scratch directory),
HA_EXAMPLES (genclient/examples).  Prints TAP.  Expected values are computed
here, independently of the generator and the LAVM.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

DAEMON = os.environ["HA_DAEMON"]
CLI = os.environ["HA_CLI"]
WORK = os.environ["HA_WORK"]
EXAMPLES = os.environ["HA_EXAMPLES"]
ENV = dict(os.environ, HA_GEN_CACHE=os.path.join(WORK, "cache"),
           HYPERAETHERD_SOCKET=os.path.join(WORK, "no-such.sock"),
           ASAN_OPTIONS="detect_leaks=1")

n = 0
failed = 0


def ok(cond, name, diag=""):
    global n, failed
    n += 1
    print(("ok %d - %s" if cond else "not ok %d - %s") % (n, name))
    if not cond:
        failed += 1
        for line in str(diag).splitlines()[:30]:
            print("# " + line)
    sys.stdout.flush()


class Daemon:
    def __init__(self, name, *args, env=None, poll=0.05):
        self.dir = os.path.join(WORK, name)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(os.path.join(self.dir, "spool"))
        self.sock = os.path.join(self.dir, "sock")
        self.log = open(os.path.join(self.dir, "log"), "w+")
        self.proc = subprocess.Popen([DAEMON, "--engine", "cpu", "--socket", self.sock,
                                      "--spool", os.path.join(self.dir, "spool")] + list(args),
                                     env=env or ENV, stderr=self.log)
        t_end = time.time() + 30
        while not os.path.exists(self.sock) and self.proc.poll() is None and time.time() < t_end:
            time.sleep(poll)

    def request(self, obj, raw=None, timeout=60):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(timeout)
        s.connect(self.sock)
        s.sendall(raw if raw is not None else (json.dumps(obj) + "\n").encode())
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        s.close()
        return json.loads(buf) if buf else None

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None

    def logtext(self):
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()


def spec(name):
    with open(os.path.join(EXAMPLES, name)) as f:
        return json.load(f)


def vm(result, name):
    return next(v for v in result["vms"] if v["name"] == name)


def cli(*args):
    p = subprocess.run([CLI] + list(args), env=ENV, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


# A spec no generator can satisfy (examples only, no simple expression).
NOSOLUTION = {"fabric": "hard", "vms": [{"name": "h", "params": ["x"], "outputs": ["y"], "examples": [
    {"in": [0], "out": 7.25}, {"in": [1], "out": -3.5}, {"in": [2], "out": 1234.5},
    {"in": [3], "out": 0.0625}, {"in": [4], "out": -77}, {"in": [5], "out": 9.75}]}]}

os.makedirs(WORK, exist_ok=True)
shutil.rmtree(ENV["HA_GEN_CACHE"], ignore_errors=True)
print("TAP version 13")

# ---------------------------------------------------------------- protocol
d = Daemon("main", "--budget-ms", "1500")
ok(os.path.exists(d.sock), "daemon/listens", d.logtext())
r = d.request({"op": "ping"})
ok(r == {"ok": True}, "daemon/ping", r)

r = d.request({"op": "run", "spec": spec("webapp.json"), "name": "webapp"})
exp_auth = 1 if (1234 * 31 + 7) % 97 == 43 else 0
exp_price = 3 * 50 - 10 if 3 * 50 > 100 else 3 * 50
ok(r and r["ok"] and r["engine"] == "cpu", "run/webapp/ok", r)
ok(r and vm(r, "ui")["outputs"]["result"] == [min(42, 20)], "run/webapp/ui", r)
ok(r and vm(r, "api")["outputs"]["price"] == [exp_price] * 4, "run/webapp/api-4-instances", r)
ok(r and vm(r, "db")["outputs"]["result"] == [5] and vm(r, "db")["shared"][5] == 99,
   "run/webapp/db-shared-write", r)
ok(r and vm(r, "auth")["outputs"]["valid"] == [exp_auth], "run/webapp/auth", r)
ok(r and len(r["edges"]) == 6 and {"from": "api", "to": "db", "rights": ["send", "recv", "share"]} in r["edges"],
   "run/webapp/edges", r)
ok(r and all(k in r["timing"] for k in ("t_ai_ms", "t_boot_ms", "t_run_ms", "t_total_ms")),
   "run/webapp/timing", r)

r = d.request({"op": "run", "spec": spec("reduction.json")})
init = list(range(32))
ok(r and r["ok"] and vm(r, "partial")["shared"][32:40] == [sum(init[4 * i:4 * i + 4]) for i in range(8)],
   "run/reduction/partial-sums", r)
ok(r and vm(r, "total")["outputs"]["result"] == [6 + 22 + 38 + 54 + 70 + 86 + 102 + 118],
   "run/reduction/total", r)

r = d.request({"op": "run", "spec": spec("pipeline.json")})
ok(r and r["ok"] and vm(r, "calibrate")["outputs"]["value"] == [2 * 21 + 1] and
   vm(r, "calibrate")["generator"] == "synth", "run/pipeline/synthesized", r)
ok(r and vm(r, "filter")["outputs"]["result"] == [min(max(43, 0), 40)], "run/pipeline/filter", r)
ok(r and vm(r, "stats")["outputs"]["result"] == [(1 + 4 + 9 + 16) / 4], "run/pipeline/stats-loop", r)

# bad input: every error names its cause
r = d.request(None, raw=b"{not json\n")
ok(r and not r["ok"] and r["errno"] == "EINVAL" and "not a JSON object" in r["error"], "bad/malformed-json", r)
r = d.request({"spec": {}})
ok(r and not r["ok"] and '"op"' in r["error"], "bad/no-op", r)
r = d.request({"op": "frobnicate"})
ok(r and not r["ok"] and "unknown op" in r["error"], "bad/unknown-op", r)
r = d.request({"op": "run"})
ok(r and not r["ok"] and "spec" in r["error"], "bad/run-without-spec", r)
bad = {"vms": [{"name": "x", "params": ["a"], "outputs": ["b"], "examples": [{"in": [1], "out": 2}, {"in": [1], "out": 3}]}]}
r = d.request({"op": "run", "spec": bad})
ok(r and not r["ok"] and "$.vms[0].examples" in r["error"] and "contradicts" in r["error"],
   "bad/contradictory-examples", r)
r = d.request({"op": "run", "spec": {"vms": [{"name": "x", "formula": "1 +"}]}})
ok(r and not r["ok"] and "formula" in r["error"], "bad/formula-syntax", r)
t0 = time.time()
r = d.request({"op": "run", "spec": NOSOLUTION})
ok(r and not r["ok"] and r.get("errno") == "ESRCH" and "vm 'h'" in r["error"] and
   "converge" in r["error"], "bad/no-generator-converges", r)
r = d.request({"op": "run", "spec": spec("webapp.json"), "generator": "nonesuch"})
ok(r and not r["ok"] and "generator" in r["error"], "bad/unknown-generator", r)

# several requests on one connection, in order
s = socket.socket(socket.AF_UNIX)
s.connect(d.sock)
s.sendall(b'{"op":"ping"}\n{"op":"stats"}\n')
buf = b""
while buf.count(b"\n") < 2:
    buf += s.recv(65536)
s.close()
lines = [json.loads(x) for x in buf.splitlines()]
ok(lines[0] == {"ok": True} and "stats" in lines[1], "daemon/pipelined-requests", buf)

# spool
sp = os.path.join(d.dir, "spool")
with open(os.path.join(sp, ".w.tmp"), "w") as f:
    json.dump(spec("webapp.json"), f)
os.rename(os.path.join(sp, ".w.tmp"), os.path.join(sp, "w.json"))
with open(os.path.join(sp, ".broken.tmp"), "w") as f:
    f.write('{"vms": [ }')
os.rename(os.path.join(sp, ".broken.tmp"), os.path.join(sp, "broken.json"))
# The daemon writes the result first and moves the spec second: wait for the specs.
for _ in range(600):
    if os.path.exists(os.path.join(sp, "done", "w.json")) and \
       os.path.exists(os.path.join(sp, "failed", "broken.json")):
        break
    time.sleep(0.05)
try:
    with open(os.path.join(sp, "done", "w.json.result.json")) as f:
        res = json.load(f)
    ok(res["ok"] and vm(res, "api")["outputs"]["price"] == [exp_price] * 4 and
       os.path.exists(os.path.join(sp, "done", "w.json")) and not os.path.exists(os.path.join(sp, "w.json")),
       "spool/done", res)
except (OSError, ValueError) as e:
    ok(False, "spool/done", str(e) + "\n" + d.logtext())
try:
    with open(os.path.join(sp, "failed", "broken.json.result.json")) as f:
        res = json.load(f)
    ok(not res["ok"] and "broken.json:1:" in res["error"], "spool/failed-names-line", res)
except (OSError, ValueError) as e:
    ok(False, "spool/failed-names-line", str(e))

r = d.request({"op": "stats"})
st = r["stats"]
ok(st["done_ok"] >= 4 and st["done_failed"] >= 4 and st["queued"] == 0 and st["running"] == 0,
   "daemon/stats", st)

# the CLI through the daemon
rc, out, err = cli("run", os.path.join(EXAMPLES, "webapp.json"), "--socket", d.sock)
ok(rc == 0 and "price=%d" % exp_price in out and "T_AI" in out and "T_boot" in out,
   "cli/run-through-daemon-table", out + err)
rc, out, err = cli("run", os.path.join(EXAMPLES, "reduction.json"), "--socket", d.sock, "--json")
ok(rc == 0 and json.loads(out)["ok"], "cli/run-through-daemon-json", out + err)
rc, out, err = cli("top", "--socket", d.sock, "--count", "2", "--interval-ms", "100")
ok(rc == 0 and "epochs/s" in out and len(out.splitlines()) == 3, "cli/top", out + err)
rc, out, err = cli("fabric", "show", "--socket", d.sock)
ok(rc == 0 and "no fabric" in out, "cli/fabric-show-daemon", out + err)

rc = d.stop()
ok(rc == 0 and "stopped" in d.logtext() and not os.path.exists(d.sock), "daemon/sigterm-idle-exits-0",
   "rc=%s\n%s" % (rc, d.logtext()))

# ---------------------------------------------------------------- readiness
# The socket file is the readiness signal (clients and the kselftests wait
# for it): with listen() delayed by 300 ms (HA_SLOW_LISTEN, an LD_PRELOAD
# shim), a client that connects the moment the file appears must get in.
# A daemon that binds the path itself refuses it (ECONNREFUSED).
d = Daemon("ready", poll=0.001,
           env=dict(ENV, LD_PRELOAD=os.environ["HA_SLOW_LISTEN"],
                    ASAN_OPTIONS="detect_leaks=1:verify_asan_link_order=0"))
try:
    r = d.request({"op": "ping"}, timeout=30)
except (OSError, ValueError) as e:
    r = repr(e)
rc = d.stop()
ok("slow_listen: listen(" in d.logtext(), "readiness/shim-delayed-listen", d.logtext())
ok(r == {"ok": True}, "readiness/socket-file-means-listening", "%s\n%s" % (r, d.logtext()))
left = [f for f in os.listdir(d.dir) if f.startswith("sock")]
ok(rc == 0 and not left, "readiness/no-temporary-socket-left", "rc=%s, left: %s" % (rc, left))

# ---------------------------------------------------------------- backpressure
d = Daemon("busy", "--max-queue", "1", "--max-inflight", "1", "--budget-ms", "1500", "--no-cache")
import threading
replies = []


def send_slow():
    replies.append(d.request({"op": "run", "spec": NOSOLUTION}))


th = [threading.Thread(target=send_slow) for _ in range(3)]
for t in th:
    t.start()
    time.sleep(0.1)
for t in th:
    t.join()
busy = [x for x in replies if x and x.get("errno") == "EBUSY"]
slow = [x for x in replies if x and x.get("errno") == "ESRCH"]
ok(len(busy) == 2 and len(slow) == 1 and "max-queue" in busy[0]["error"], "backpressure/refused-with-ebusy",
   replies)
d.stop()

# ---------------------------------------------------------------- SIGTERM: no spec lost
d = Daemon("term", "--max-queue", "1", "--budget-ms", "3000", "--no-cache")
sp = os.path.join(d.dir, "spool")
for i in range(3):     # written aside and renamed in, as the spool asks
    with open(os.path.join(sp, ".slow%d.tmp" % i), "w") as f:
        json.dump(NOSOLUTION, f)
    os.rename(os.path.join(sp, ".slow%d.tmp" % i), os.path.join(sp, "slow%d.json" % i))
time.sleep(0.5)     # one of them is generating now
rc = d.stop()
left = sorted(x for x in os.listdir(sp) if x.endswith(".json"))
ok(rc == 0 and left == ["slow0.json", "slow1.json", "slow2.json"] and not os.listdir(os.path.join(sp, "failed")),
   "sigterm/spool-files-stay", "rc=%s left=%s\n%s" % (rc, left, d.logtext()))

# a spec accepted on the socket before SIGTERM still gets its reply
d = Daemon("term2", "--budget-ms", "1500", "--no-cache")
replies = []
t = threading.Thread(target=lambda: replies.append(d.request({"op": "run", "spec": NOSOLUTION})))
t.start()
time.sleep(0.3)
d.proc.send_signal(signal.SIGTERM)
t.join(30)
rc = d.proc.wait(30)
ok(rc == 0 and replies and replies[0] and not replies[0]["ok"], "sigterm/socket-client-gets-reply",
   "%s\n%s" % (replies, d.logtext()))

# SIGKILL: the next daemon takes the spool files over
d = Daemon("kill", "--budget-ms", "1500", "--no-cache")
sp = os.path.join(d.dir, "spool")
with open(os.path.join(sp, ".slow.tmp"), "w") as f:
    json.dump(NOSOLUTION, f)
os.rename(os.path.join(sp, ".slow.tmp"), os.path.join(sp, "slow.json"))
time.sleep(0.3)
d.stop(signal.SIGKILL)
ok(os.path.exists(os.path.join(sp, "slow.json")), "sigkill/spool-file-stays")
shutil.copy(os.path.join(EXAMPLES, "webapp.json"), os.path.join(sp, "web.json"))
d.proc = subprocess.Popen([DAEMON, "--engine", "cpu", "--socket", d.sock, "--spool", sp],
                          env=ENV, stderr=d.log)
for _ in range(200):
    if os.path.exists(os.path.join(sp, "done", "web.json.result.json")):
        break
    time.sleep(0.05)
ok(os.path.exists(os.path.join(sp, "done", "web.json.result.json")), "sigkill/restart-stale-socket-and-spool",
   d.logtext())
d.stop()

# ---------------------------------------------------------------- the CLI alone
web = os.path.join(EXAMPLES, "webapp.json")
rc, out, err = cli("run", web, "--engine", "cpu")
ok(rc == 0 and "userspace lavm engine" in out and "price=%d" % exp_price in out, "cli/run-engine-cpu", out + err)
if not os.path.exists("/dev/hyperaether"):
    rc, out, err = cli("run", web)
    ok(rc == 1 and "/dev/hyperaether is absent" in err and "--engine cpu" in err, "cli/run-says-device-absent",
       out + err)
else:
    ok(True, "cli/run-says-device-absent # SKIP /dev/hyperaether exists here")
rc, out, err = cli("run", web, "--engine", "cpu", "--json")
ok(rc == 0 and json.loads(out)["engine"] == "cpu", "cli/run-json", out + err)
badf = os.path.join(WORK, "bad.json")
with open(badf, "w") as f:
    f.write('{"vms": [\n  {"name": 3}\n]}')
rc, out, err = cli("run", badf, "--engine", "cpu")
ok(rc == 1 and "bad.json" in err and "$.vms[0].name" in err, "cli/run-bad-spec-one-line", out + err)
rc, out, err = cli("gen", web, "--vm", "api")
ok(rc == 0 and "vm api: found by compiler" in out and "halt" in out.lower(), "cli/gen-one-vm", out + err)
rc, out, err = cli("gen", os.path.join(EXAMPLES, "pipeline.json"), "--json")
ok(rc == 0 and [x["generator"] for x in json.loads(out)] == ["synth", "compiler", "compiler"], "cli/gen-json",
   out + err)
rc, out, err = cli("gen", web, "--vm", "nope")
ok(rc == 1 and "no VM named 'nope'" in err, "cli/gen-unknown-vm", out + err)
rc, out, err = cli("fabric", "show", web, "--dot")
ok(rc == 0 and out.startswith("digraph") and '"ui" -> "api" [label="send,recv"]' in out and
   '"api" [label="api x4"]' in out, "cli/fabric-show-dot", out + err)
rc, out, err = cli("fabric", "show", web)
ok(rc == 0 and "4 VMs, 6 edges" in out, "cli/fabric-show-text", out + err)
rc, out, err = cli("run")
ok(rc == 2 and "usage" in err, "cli/run-usage", err)
p = subprocess.run([DAEMON, "--bogus"], capture_output=True, text=True)
ok(p.returncode == 2 and "usage" in p.stderr, "daemon/usage")

print("1..%d" % n)
sys.exit(1 if failed else 0)
