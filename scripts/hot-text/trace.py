# gdb -batch -x trace.py --args BIN ARGS...   (run by profile.sh)
#
# Records every function of BIN that one process enters: a temporary
# breakpoint on the first byte of each .text input section (rustc puts each
# function in its own section), hit at most once. Reads:
#   HOT_SECTIONS  lines "VMA SIZE SECTION" from the link map (sections.py)
#   HOT_OUT       where to write the SECTION names that were entered
#   HOT_FOLLOW    "parent" (default): the brig command itself, forked
#                 children detached without breakpoints; "child": the first
#                 forked child (the container's init) until it execs.
import os

import gdb

follow = os.environ.get("HOT_FOLLOW", "parent")
gdb.execute("set pagination off")
gdb.execute("set confirm off")
gdb.execute("set breakpoint pending off")
gdb.execute("set detach-on-fork on")
gdb.execute("set follow-fork-mode " + follow)
gdb.execute("set follow-exec-mode same")
gdb.execute("starti", to_string=True)

binary = os.path.realpath(gdb.current_progspace().filename)
pid = gdb.selected_inferior().pid
base = None
with open("/proc/%d/maps" % pid) as maps:
    for line in maps:
        fields = line.split()
        if len(fields) >= 6 and fields[5] == binary and fields[2] == "00000000":
            base = int(fields[0].split("-")[0], 16)
            break
if base is None:
    raise gdb.GdbError("no mapping of %s in /proc/%d/maps" % (binary, pid))

sections = {}
with open(os.environ["HOT_SECTIONS"]) as f:
    for line in f:
        vma, _size, name = line.split()
        bp = gdb.Breakpoint("*0x%x" % (base + int(vma, 16)), internal=True, temporary=True)
        bp.silent = True
        sections[bp.number] = name

hits = []
seen = set()


def on_stop(event):
    for bp in getattr(event, "breakpoints", []):
        name = sections.get(bp.number)
        if name is not None and name not in seen:
            seen.add(name)
            hits.append(name)


gdb.events.stop.connect(on_stop)
if follow == "child":
    # The init's own code ends at execve of the container's process.
    gdb.execute("catch exec", to_string=True)
while True:
    try:
        out = gdb.execute("continue", to_string=True)
    except gdb.error:
        break
    if gdb.selected_inferior().pid == 0 or "exited" in out:
        break
    if follow == "child" and "is executing new program" in out:
        break
with open(os.environ["HOT_OUT"], "w") as f:
    f.write("".join(n + "\n" for n in hits))
print("%s: %d functions entered" % (os.environ["HOT_OUT"], len(hits)))
if gdb.selected_inferior().pid:
    # Let the container's process run on, so the command ends normally.
    gdb.execute("detach", to_string=True)
