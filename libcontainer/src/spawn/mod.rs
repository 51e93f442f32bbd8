//! Starting the container's init: the channel protocol, the parent side
//! (clone3 into namespaces and cgroup, id maps, hooks) and the init's steps.

pub(crate) mod channel;
mod exec;
mod init;
mod parent;
mod terminal;
mod console_socket;

pub(crate) use console_socket::send_console;
pub(crate) use exec::{spawn_exec, ExecRequest};
pub(crate) use parent::{spawn, SpawnRequest};
