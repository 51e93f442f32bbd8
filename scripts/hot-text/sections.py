#!/usr/bin/env python3
"""sections.py MAP: the .text input sections of an lld link map (-Map=MAP),
one "VMA SIZE SECTION" line each. rustc gives every function its own
section, so these are brig's functions and where they start. check.py
uses parse() too."""
import re
import sys

# lld: an output section is "VMA LMA SIZE ALIGN NAME"; an input section is
# "VMA LMA SIZE ALIGN <indent>FILE:(SECTION)".
OUT = re.compile(r"^\s*[0-9a-f]+\s+[0-9a-f]+\s+[0-9a-f]+\s+\d+\s(\S+)$")
IN = re.compile(r"^\s*([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s+\d+\s+\S.*:\((\.text\.[^)]+)\)$")


def parse(path):
    """(vma, size, section, output section) of every .text.* input section"""
    found, out = [], None
    with open(path) as f:
        for line in f:
            m = IN.match(line)
            if m:
                found.append((int(m.group(1), 16), int(m.group(2), 16), m.group(3), out))
                continue
            m = OUT.match(line)
            if m:
                out = m.group(1)
    return found


def main(path):
    found = [s for s in parse(path) if s[1] > 0]
    if not found:
        sys.exit("sections.py: no .text.* input sections in %s (not an lld map?)" % path)
    sys.stdout.write("".join("%x %x %s\n" % s[:3] for s in found))


if __name__ == "__main__":
    main(sys.argv[1])
