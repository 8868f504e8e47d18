//! `seclog detect run`: one run of the alerter, in process, through the function's own code.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use chrono::{DateTime, Utc};
use seclog_core::sink::opensearch::config::OpenSearchConfig;
use seclog_detect::config::DetectConfig;
use seclog_detect::handler::{self, Deps, RunReport};
use seclog_rules::RuleSet;

/// Runs the alerter once at `now`.
///
/// # Errors
/// When `OpenSearch` cannot be queried or written (a failed send is not an error: the next run
/// retries it).
pub async fn run(
    opensearch: OpenSearchConfig,
    config: DetectConfig,
    rules: Arc<RuleSet>,
    now: DateTime<Utc>,
) -> Result<RunReport> {
    let deps = Box::new(Box::pin(Deps::init(opensearch, config, rules)).await?);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    Ok(Box::pin(handler::run(&deps, now, deadline)).await?)
}

/// Prints what a run raised and sent.
///
/// # Errors
/// Only when `out` cannot be written.
pub fn print(report: &RunReport, out: &mut impl Write) -> Result<()> {
    writeln!(out, "   window {} to {} (event time)", report.window.0, report.window.1)?;
    if report.raised.is_empty() {
        writeln!(out, "   no new alert ({} found again, already raised)", report.already_raised)?;
    }
    for alert in &report.raised {
        writeln!(out, "   raised [{}] {}", alert.level, alert.message)?;
    }
    if report.sent.is_empty() {
        writeln!(out, "   nothing sent")?;
    }
    for sent in &report.sent {
        writeln!(out, "   sent alert {} to {}", &sent.alert[..12.min(sent.alert.len())], sent.destination)?;
    }
    for failure in &report.send_failures {
        writeln!(out, "   not sent (the next run retries): {failure}")?;
    }
    if report.waiting > 0 {
        writeln!(out, "   {} more alerts wait to be sent", report.waiting)?;
    }
    Ok(())
}
