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

/// When the recorded brute-force burst ends: the alerter runs as its schedule would then.
pub const ALERTS_AT: &str = "2026-11-30T21:30:00Z";

/// The demo's last question (18): the alerter, run twice against a local webhook receiver standing in
/// for Slack.
pub(crate) async fn demo_question(config: &OpenSearchConfig, rules: Arc<RuleSet>, out: &mut impl Write) -> Result<()> {
    let receiver = crate::receiver::Receiver::start([]).await?;
    let detect = seclog_detect::config::DetectConfig {
        destinations: seclog_detect::config::Destinations {
            slack: Some(receiver.url("slack").parse()?),
            ..seclog_detect::config::Destinations::default()
        },
        ..seclog_detect::config::DetectConfig::default()
    };
    let now = chrono::DateTime::parse_from_rfc3339(ALERTS_AT)?.to_utc();
    writeln!(
        out,
        "\n18. Alerts: the alerter runs as its 5-minute schedule would at {ALERTS_AT}, with a local receiver standing in for Slack"
    )?;
    let first = run(config.clone(), detect.clone(), rules.clone(), now).await?;
    print(&first, out)?;
    writeln!(out, "   Slack got {} messages:", receiver.received().len())?;
    for (_, message) in receiver.received() {
        writeln!(out, "   > {}", message["text"].as_str().unwrap_or_default())?;
    }
    writeln!(out, "   The same run again (a retry, an overlapping window):")?;
    let again = run(config.clone(), detect, rules, now).await?;
    print(&again, out)?;
    writeln!(out, "   Slack got {} messages in all.", receiver.received().len())?;
    Ok(())
}
