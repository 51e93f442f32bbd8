//! `brig --version`.

use super::Result;

/// Prints brig's version, commit and the runtime-spec version, as runc does.
pub fn run() -> Result<u8> {
    println!("brig version {}", env!("CARGO_PKG_VERSION"));
    println!("commit: {}", env!("BRIG_COMMIT"));
    println!("spec: {}", libcontainer::features::OCI_VERSION_MAX);
    Ok(0)
}

/// With no subcommand, runc prints its help; so do we.
pub fn usage() -> Result<u8> {
    use clap::CommandFactory;
    let _ = crate::cli::Cli::command().print_help();
    Ok(0)
}
