#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Count the TAP results of `make check` and print the closing line.

Reads every build/results/*.tap; a line "ok ..." passes, "not ok ..."
fails, "... # SKIP" is skipped (a skip is never counted as a pass).
Exits 1 if anything failed or nothing ran at all.
"""
import pathlib
import re
import sys

LINE = re.compile(r"^(not ok|ok)\b(.*)$")


def main():
    results = pathlib.Path(sys.argv[1])
    seconds = sys.argv[2] if len(sys.argv) > 2 else "?"
    total = {"pass": 0, "fail": 0, "skip": 0}
    failed_names = []
    print("check: results")
    for tap in sorted(results.glob("*.tap")):
        n = {"pass": 0, "fail": 0, "skip": 0}
        for line in tap.read_text(errors="replace").splitlines():
            m = LINE.match(line)
            if not m:
                continue
            if re.search(r"#\s*SKIP", m.group(2), re.I):
                n["skip"] += 1
            elif m.group(1) == "ok":
                n["pass"] += 1
            else:
                n["fail"] += 1
                failed_names.append(f"{tap.stem}: {line}")
        for k in total:
            total[k] += n[k]
        print(f"  {tap.stem:<14} {n['pass']:5} passed {n['fail']:4} failed"
              f" {n['skip']:4} skipped")
    for f in failed_names:
        print(f"  FAILED {f}")
    print(f"check: {seconds} s")
    print(f"{total['pass']} passed, {total['fail']} failed, "
          f"{total['skip']} skipped")
    return 1 if total["fail"] or not total["pass"] else 0


if __name__ == "__main__":
    sys.exit(main())
