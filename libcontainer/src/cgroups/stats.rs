//! Container statistics from cgroup v2 files, in runc's `events --stats` shape.
