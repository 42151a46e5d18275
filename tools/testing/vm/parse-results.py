#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn a test VM's console and result streams into one flat TAP file.

Every KUnit case, every kselftest case, every module load/unload step and
three whole-run checks (the guest finished, the console is free of kernel
error reports, kmemleak found nothing) become one TAP line each, named
"<vm>/<kind>/<suite>/<case>".  Exit status 1 if any line is `not ok`.
"""
import argparse
import re
import sys

# Kernel reports that fail a run wherever they appear on the console.
BAD_CONSOLE = re.compile(
    r"(BUG:|WARNING:|Oops|general protection fault|Kernel panic|"
    r"UBSAN:|kernel BUG|possible recursive locking|"
    r"circular locking dependency|inconsistent lock state|"
    r"possible irq lock inversion|suspicious RCU usage|"
    r"lock held when returning to user space|"
    r"blocked for more than|unreferenced object|Call Trace:|"
    r"stack-protector|INFO: rcu_.* detected stalls)")
CASE = re.compile(r"^(\s*)(not ok|ok) (\d+) (?:- )?(.*?)\s*$")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--console", required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("--kunit", type=int, default=0)
    ap.add_argument("--qemu-rc", type=int, default=0)
    ap.add_argument("--tap", required=True)
    args = ap.parse_args()

    def read(path):
        try:
            with open(path, "rb") as f:
                return f.read().decode("utf-8", "replace").replace("\r", "")
        except FileNotFoundError:
            return ""

    console = read(args.console).splitlines()
    lines = read(args.results).splitlines()
    out = []  # (ok, name, diagnostics)

    def add(ok, name, diag=()):
        out.append((ok, f"{args.name}/{name}", list(diag)))

    section, suite, body = None, None, []
    kunit_suites, ksft_ran, done, nproc = 0, 0, False, None
    for line in lines:
        if line.startswith("HA-RESULT "):
            m = re.match(r"HA-RESULT (not ok|ok) (.*)", line)
            add(m.group(1) == "ok", "step/" + m.group(2).replace(" ", "_"))
        elif line.startswith("HA-NPROC "):
            nproc = line.split()[1]
        elif line.startswith("HA-KUNIT "):
            section, suite, body = "kunit", line.split()[1], []
        elif line.startswith("HA-KSFT "):
            section, suite, body = "ksft", line.split()[1], []
        elif line.startswith("HA-KMEMLEAK"):
            section, suite, body = "kmemleak", None, []
        elif line.startswith("HA-SCRIPT-EXIT "):
            rc = int(line.split()[1])
            add(rc == 0, "script/exit", body[-20:] if rc else ())
            section = None
        elif line.startswith("HA-SCRIPT"):
            section, suite, body = "script", None, []
        elif line == "HA-END" and section == "kunit":
            kunit_suites += 1
            cases = 0
            for b in body:
                m = CASE.match(b)
                # Cases are indented under their suite's KTAP header.
                if m and len(m.group(1)) >= 4:
                    cases += 1
                    skip = "# SKIP" in m.group(4)
                    add(m.group(2) == "ok", f"kunit/{suite}/{m.group(4)}",
                        () if m.group(2) == "ok" or skip else body)
            if cases == 0:
                add(False, f"kunit/{suite}/no-cases-reported", body)
            section = None
        elif line == "HA-END" and section == "kmemleak":
            leaks = [b for b in body if b.strip()]
            add(not leaks, "kmemleak/no-leaks", leaks[:60])
            section = None
        elif line.startswith("HA-KSFT-EXIT "):
            _, t, rc = line.split()
            ksft_ran += 1
            cases = 0
            for b in body:
                m = CASE.match(b)
                if m and not m.group(1):
                    cases += 1
                    add(m.group(2) == "ok", f"kselftest/{t}/{m.group(4)}",
                        () if m.group(2) == "ok" else body[-40:])
            add(rc == "0" and cases > 0, f"kselftest/{t}/exit-status",
                () if rc == "0" else [f"exit status {rc}"])
            section = None
        elif line == "HA-DONE":
            done = True
        elif section:
            body.append(line)

    add(done and args.qemu_rc == 0, "boot/completed",
        [f"guest did not finish (qemu rc {args.qemu_rc}; 124 = timeout)"]
        + console[-30:] if not done or args.qemu_rc else ())
    add(nproc == "2", "boot/two-cpus", [f"guest saw {nproc} CPUs"])
    if args.kunit:
        add(kunit_suites > 0, "kunit/suites-found")
    bad = [c for c in console if BAD_CONSOLE.search(c)]
    add(not bad, "console/no-kernel-error-reports", bad[:60])

    failed = 0
    with open(args.tap, "w") as f:
        f.write(f"1..{len(out)}\n")
        for i, (ok, name, diag) in enumerate(out, 1):
            f.write(f"{'ok' if ok else 'not ok'} {i} - {name}\n")
            if not ok:
                failed += 1
                for d in diag:
                    f.write(f"# {d}\n")
    for ok, name, diag in out:
        if not ok:
            print(f"not ok - {name}", file=sys.stderr)
            for d in diag[:40]:
                print(f"#   {d}", file=sys.stderr)
    print(f"vm[{args.name}]: {len(out) - failed} passed, {failed} failed",
          file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
