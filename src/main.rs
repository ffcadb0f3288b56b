//! Entry point: parse the command line, run a subcommand or start the app.

use std::process::ExitCode;

use clap::Parser;
use marginalia::cli::{self, Cli};

fn main() -> ExitCode {
    let args = Cli::parse();
    let result = match args.command {
        Some(command) => {
            quiet_on_closed_pipe();
            cli::run(command)
        }
        None => start_app(args.path),
    };
    match result {
        Ok(code) => ExitCode::from(code as u8),
        Err(err) => {
            cli::report_error(&err);
            ExitCode::from(2)
        }
    }
}

#[cfg(feature = "gui")]
fn start_app(path: Option<std::path::PathBuf>) -> anyhow::Result<i32> {
    marginalia::ui::run(path)?;
    Ok(0)
}

#[cfg(not(feature = "gui"))]
fn start_app(_path: Option<std::path::PathBuf>) -> anyhow::Result<i32> {
    anyhow::bail!(
        "this build has no GUI (built without the `gui` feature); use a subcommand, see --help"
    )
}

/// A command whose output is cut short (`marginalia search … | head`) ends quietly, as other
/// command-line tools do, instead of panicking on the failed write: Rust ignores SIGPIPE, so a
/// closed pipe reached `println!` as an error. The app keeps Rust's default: a window has no
/// pipe to lose.
fn quiet_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: restores the default disposition of one signal before any thread is started.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
