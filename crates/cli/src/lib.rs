//! The `seclog` command's library: replay recorded events through the real handlers, install
//! index templates, run the demo against a local `osmem-server`.
//!
//! Kept as a library so that the end-to-end tests drive exactly what the command does.
#![warn(missing_docs)]

mod aggregations;
pub mod aws_ranges;
pub mod client;
pub mod dashboards;
pub mod demo;
pub mod detect;
pub mod firehose_replay;
pub mod osmem;
pub mod questions;
pub mod receiver;
pub mod replay;
pub mod report;
pub mod rules;
pub mod s3_replay;
pub mod templates;
