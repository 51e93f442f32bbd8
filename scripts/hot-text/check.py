#!/usr/bin/env python3
"""check.py MAP [SCRIPT]: checks that brig was linked with its hot-text
layout and that the layout is not stale.

MAP is the link map of the release brig, which runtime-bin/build.rs has
the linker write (target/release/build/brig-*/out/brig.map); SCRIPT defaults to runtime-bin/hot-text.ld. Fails when
fewer than MIN_FOUND of the script's functions exist in the build (a
toolchain or dependency update renamed them: rerun profile.sh), or when the
ones that exist were not placed in .text.brig_hot."""
import os
import re
import sys

from sections import parse

MIN_FOUND = 0.9
RULE = re.compile(r"^\s*\*\((\.text\.[^)]+)\)$")


def listed(script):
    with open(script) as f:
        return [m.group(1) for m in map(RULE.match, f) if m]


def main(path, script):
    names = listed(script)
    where = {name: out for _vma, _size, name, out in parse(path)}
    if not names:
        sys.exit("hot-text: no functions listed in %s" % script)
    found = [n for n in names if n in where]
    misplaced = [n for n in found if where[n] != ".text.brig_hot"]
    print("hot-text: %d of %d listed functions found in the build, %d misplaced"
          % (len(found), len(names), len(misplaced)))
    if misplaced:
        sys.exit("hot-text: %s was not applied (e.g. %s is in %s)"
                 % (script, misplaced[0], where[misplaced[0]]))
    if len(found) < MIN_FOUND * len(names):
        sys.exit("hot-text: %s is stale (a toolchain or dependency update?): "
                 "rerun scripts/hot-text/profile.sh" % script)


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: check.py MAP [SCRIPT]")
    here = os.path.dirname(os.path.abspath(__file__))
    default = os.path.join(here, "..", "..", "runtime-bin", "hot-text.ld")
    main(sys.argv[1], sys.argv[2] if len(sys.argv) == 3 else default)
