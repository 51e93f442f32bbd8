//! `brig`: a runc-compatible OCI runtime CLI over libcontainer.

mod cli;
mod commands;
mod log;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let logger = log::Logger::new(&cli.global);
    match commands::dispatch(&cli, &logger) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // The error is printed once, here, as one line.
            logger.error(&e);
            ExitCode::FAILURE
        }
    }
}
