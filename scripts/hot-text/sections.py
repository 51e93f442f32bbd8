#!/usr/bin/env python3
"""sections.py MAP: the .text input sections of an lld link map (-Map=MAP),
one "VMA SIZE SECTION" line each. rustc gives every function its own
section, so these are brig's functions and where they start."""
import re
import sys

# lld: "VMA LMA SIZE ALIGN <indent>FILE:(SECTION)"
LINE = re.compile(r"^\s*([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s+\d+\s+\S.*:\((\.text\.[^)]+)\)$")


def main(path):
    out = []
    with open(path) as f:
        for line in f:
            m = LINE.match(line)
            if m and int(m.group(2), 16) > 0:
                out.append("%s %s %s" % m.groups())
    if not out:
        sys.exit("sections.py: no .text.* input sections in %s (not an lld map?)" % path)
    sys.stdout.write("".join(line + "\n" for line in out))


if __name__ == "__main__":
    main(sys.argv[1])
