//! The `detect` function: run on a schedule, it turns what the ingest functions marked
//! (`detection.rule_ids`) into alerts, counts bursts with Sigma correlation rules, and sends each
//! alert once to Slack and to a JSON webhook.
//!
//! Every alert is a document in `<prefix>-alerts-YYYY.MM` under a deterministic id, written with
//! `create`: re-running a window, a redelivered event or a replay never raises an alert twice. An
//! alert is marked sent (`alert.notified_to`, `alert.notified_at`) only after the destination
//! accepted it, with optimistic concurrency on the alert document; a failed send is retried by
//! the next run.
#![warn(missing_docs)]

pub mod baseline;
pub mod config;
pub mod find;
pub mod handler;
pub mod hit;
pub mod notify;
pub mod transform;
