//! runc's command line: same names, flags and defaults.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// brig: a runc-compatible OCI container runtime.
#[derive(Debug, Parser)]
#[command(name = "brig", disable_version_flag = true)]
pub struct Cli {
    /// Global flags, accepted anywhere before the subcommand.
    #[command(flatten)]
    pub global: Global,
    /// Print the version.
    #[arg(short = 'v', long = "version")]
    pub version: bool,
    /// The subcommand.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// `--log-format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, as engines parse.
    Json,
}

/// runc's global flags.
#[derive(Debug, Args)]
pub struct Global {
    /// Root directory for storage of container state.
    #[arg(long, global = true, default_value = "/run/brig")]
    pub root: PathBuf,
    /// Log file (default: stderr).
    #[arg(long, global = true)]
    pub log: Option<PathBuf>,
    /// Log format.
    #[arg(long = "log-format", global = true, value_enum, default_value_t)]
    pub log_format: LogFormat,
    /// Debug logging.
    #[arg(long, global = true)]
    pub debug: bool,
    /// Use the systemd cgroup driver.
    #[arg(long = "systemd-cgroup", global = true)]
    pub systemd_cgroup: bool,
    /// Rootless mode: auto, true or false. Not global: `spec --rootless`
    /// is a flag of its own, as in runc.
    #[arg(long, default_value = "auto")]
    pub rootless: String,
    /// Criu path (accepted for compatibility; checkpointing is not supported).
    #[arg(long, global = true, hide = true)]
    pub criu: Option<String>,
}

// Flags shared by `create` and `run`. (Plain comments on the flag structs of
// whole subcommands: see `Command`.)
#[derive(Debug, Args)]
pub struct CreateFlags {
    /// Path to the bundle directory.
    #[arg(short, long, default_value = ".")]
    pub bundle: PathBuf,
    /// File to write the init's pid to.
    #[arg(long = "pid-file")]
    pub pid_file: Option<PathBuf>,
    /// Unix socket to send the pty master to.
    #[arg(long = "console-socket")]
    pub console_socket: Option<PathBuf>,
    /// Use MS_MOVE + chroot instead of pivot_root.
    #[arg(long = "no-pivot")]
    pub no_pivot: bool,
    /// Do not create a new session keyring.
    #[arg(long = "no-new-keyring")]
    pub no_new_keyring: bool,
    /// Pass N more fds (3..3+N) to the container.
    #[arg(long = "preserve-fds", default_value_t = 0)]
    pub preserve_fds: u32,
    /// The container id.
    pub id: String,
}

/// The subcommands.
///
/// `defer`: each subcommand's flags are only built when that subcommand is
/// parsed (or its help printed). Building all sixteen at every start was
/// most of brig's heap and of the code it faulted in before doing anything.
/// The flag structs of whole subcommands (`Create(CreateFlags)`...) carry
/// `//` comments, not doc comments: clap makes a doc comment the about text,
/// and deferred, it would replace the variant's in `brig <cmd> --help`.
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Create a container.
    Create(CreateFlags),
    /// Start a created container.
    Start {
        /// The container id.
        id: String,
    },
    /// Create and start a container.
    Run {
        /// create's flags.
        #[command(flatten)]
        create: CreateFlags,
        /// Detach from the container's process.
        #[arg(short, long)]
        detach: bool,
        /// Keep the container after it exits.
        #[arg(long)]
        keep: bool,
    },
    /// Send a signal to the container's init.
    Kill {
        /// Signal every process in the container.
        #[arg(short, long)]
        all: bool,
        /// The container id.
        id: String,
        /// The signal (name or number).
        #[arg(default_value = "SIGTERM")]
        signal: String,
    },
    /// Delete a container.
    Delete {
        /// Kill a running container first; succeed if it does not exist.
        #[arg(short, long)]
        force: bool,
        /// The container id.
        id: String,
    },
    /// Print a container's state as JSON.
    State {
        /// The container id.
        id: String,
    },
    /// List containers.
    #[command(alias = "ps-all")]
    List {
        /// Output format: table or json.
        #[arg(short, long, default_value = "table")]
        format: String,
        /// Print only ids.
        #[arg(short, long)]
        quiet: bool,
    },
    /// Write a default config.json.
    Spec {
        /// The bundle directory.
        #[arg(short, long, default_value = ".")]
        bundle: PathBuf,
        /// A spec for a rootless container.
        #[arg(long)]
        rootless: bool,
    },
    /// Print what brig supports, as JSON.
    Features,
    /// Freeze every process of a container.
    Pause {
        /// The container id.
        id: String,
    },
    /// Thaw a paused container.
    Resume {
        /// The container id.
        id: String,
    },
    /// Change a live container's resource limits.
    Update(Box<crate::commands::update::UpdateFlags>),
    /// Print container events and statistics as JSON.
    Events(crate::commands::events::EventsFlags),
    /// List the processes of a container.
    Ps(crate::commands::ps::PsFlags),
    /// Run a new process in a running container.
    Exec(Box<ExecFlags>),
}

// `exec`'s flags (runc's).
#[derive(Debug, Args)]
pub struct ExecFlags {
    /// A process.json to run instead of the command line.
    #[arg(short, long)]
    pub process: Option<PathBuf>,
    /// Allocate a pseudo-TTY.
    #[arg(short, long)]
    pub tty: bool,
    /// Unix socket to send the pty master to.
    #[arg(long = "console-socket")]
    pub console_socket: Option<PathBuf>,
    /// Detach from the process.
    #[arg(short, long)]
    pub detach: bool,
    /// File to write the process's pid to.
    #[arg(long = "pid-file")]
    pub pid_file: Option<PathBuf>,
    /// Working directory.
    #[arg(long)]
    pub cwd: Option<PathBuf>,
    /// Environment variables (KEY=VALUE), added to the container's.
    #[arg(short, long)]
    pub env: Vec<String>,
    /// UID[:GID] to run as.
    #[arg(short, long)]
    pub user: Option<String>,
    /// Additional gids.
    #[arg(short = 'g', long = "additional-gids")]
    pub additional_gids: Vec<u32>,
    /// Extra capabilities.
    #[arg(short, long)]
    pub cap: Vec<String>,
    /// Set no_new_privs.
    #[arg(long = "no-new-privs")]
    pub no_new_privs: bool,
    /// AppArmor profile.
    #[arg(long)]
    pub apparmor: Option<String>,
    /// SELinux process label.
    #[arg(long = "process-label")]
    pub process_label: Option<String>,
    /// Pass N more fds (3..3+N) to the process.
    #[arg(long = "preserve-fds", default_value_t = 0)]
    pub preserve_fds: u32,
    /// Run in this sub-cgroup of the container's cgroup.
    #[arg(long)]
    pub cgroup: Option<String>,
    /// Allow exec in a paused container.
    #[arg(long = "ignore-paused")]
    pub ignore_paused: bool,
    /// The container id.
    pub id: String,
    /// The command and its arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}
