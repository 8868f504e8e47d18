//! Starts and stops a local `osmem-server` (an in-memory server of the `OpenSearch` REST API).
//!
//! The binary is installed by `scripts/setup` into `.tools/osmem` (a pinned `PyPI` wheel). It is
//! found through `SECLOG_OSMEM_BIN`, else `.tools/osmem/osmem_server/bin/osmem-server` under the
//! current directory or any parent. The server listens on 127.0.0.1 on a free port, and exits
//! when this process does (`-parent-pid`) or when the [`Server`] is dropped.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use anyhow::{bail, Context, Result};

/// Where `scripts/setup` installs the server, relative to the repository root.
pub const INSTALL_PATH: &str = ".tools/osmem/osmem_server/bin/osmem-server";

/// A running server; stopped on drop.
#[derive(Debug)]
pub struct Server {
    child: Child,
    url: String,
}

/// Finds the server binary.
///
/// # Errors
/// When it is not installed, with the command that installs it.
pub fn find_binary() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("SECLOG_OSMEM_BIN") {
        return Ok(PathBuf::from(p));
    }
    let here = std::env::current_dir()?;
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for dir in here.ancestors().chain(manifest.ancestors()) {
        let candidate = dir.join(INSTALL_PATH);
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    bail!("osmem-server is not installed: run `scripts/setup` (it installs the pinned version into .tools/)")
}

impl Server {
    /// Starts a fresh, empty server.
    ///
    /// # Errors
    /// When the binary is missing or does not start.
    pub fn start() -> Result<Self> {
        let bin = find_binary()?;
        let mut child = Command::new(&bin)
            .args(["-addr", "127.0.0.1:0", "-no-stdin-watch", "-no-ja", "-parent-pid"])
            .arg(std::process::id().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).context("reading the server's address")?;
        let info: serde_json::Value = serde_json::from_str(&line)
            .with_context(|| format!("osmem-server printed `{}` instead of its address", line.trim()))?;
        let url = info["url"].as_str().context("no url in the server's first line")?.to_owned();
        Ok(Self { child, url })
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
