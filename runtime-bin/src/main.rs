//! `brig`: a runc-compatible OCI runtime CLI over libcontainer.
//!
//! The process starts in `sys::main` (see there for why brig is
//! `#![no_main]`).
#![no_main]

mod cli;
mod commands;
mod log;
// The entry point and the only `unsafe` code of the binary.
#[allow(unsafe_code)]
mod sys;

use std::io::Write;

use clap::Parser;

/// Parses the command line, runs the command, and gives the exit status.
fn run() -> u8 {
    let cli = cli::Cli::parse();
    let logger = log::Logger::new(&cli.global);
    let code = match commands::dispatch(&cli, &logger) {
        Ok(code) => code,
        Err(e) => {
            // The error is printed once, here, as one line.
            logger.error(&e);
            1
        }
    };
    // Without std's start-up nothing flushes stdout at exit, and a command's
    // last line may still sit in its buffer.
    if std::io::stdout().flush().is_err() && code == 0 {
        return 1;
    }
    code
}
