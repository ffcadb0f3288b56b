//! The desktop app.

/// Starts the app on a file or folder.
pub fn run(_path: std::path::PathBuf) -> anyhow::Result<()> {
    anyhow::bail!("the app is not built yet")
}
