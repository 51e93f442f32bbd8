//! One file per subcommand; `dispatch` maps the parsed CLI onto them.

mod create;
mod delete;
mod exec;
mod features;
mod kill;
mod list;
mod run;
mod spec;
mod start;
mod state;
mod version;

use crate::cli::{Cli, Command};
use crate::log::Logger;

/// The error type of commands: the library's, printed once by main.
pub type Result<T> = libcontainer::Result<T>;

/// Runs the command; returns the process exit code.
pub fn dispatch(cli: &Cli, log: &Logger) -> Result<u8> {
    let g = &cli.global;
    if cli.version {
        return version::run();
    }
    let Some(cmd) = &cli.command else {
        return version::usage();
    };
    match cmd {
        Command::Create(f) => create::run(g, f, log),
        Command::Start { id } => start::run(g, id, log),
        Command::Run { create, detach, keep } => run::run(g, create, *detach, *keep, log),
        Command::Kill { all, id, signal } => kill::run(g, id, signal, *all),
        Command::Delete { force, id } => delete::run(g, id, *force, log),
        Command::State { id } => state::run(g, id),
        Command::List { format, quiet } => list::run(g, format, *quiet),
        Command::Spec { bundle, rootless } => spec::run(bundle, *rootless),
        Command::Features => features::run(),
        Command::Exec(f) => exec::run(g, f, log),
    }
}
