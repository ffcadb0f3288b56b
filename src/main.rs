//! Entry point: parse the command line, run a subcommand or start the app.

use std::process::ExitCode;

use clap::Parser;
use marginalia::cli::{self, Cli};

fn main() -> ExitCode {
    let args = Cli::parse();
    let result = match args.command {
        Some(command) => cli::run(command),
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
