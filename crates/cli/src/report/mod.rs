//! `seclog report`: one self-contained HTML file of the period's security picture, drawn from the
//! same queries the demo prints ([`crate::questions`]). Charts are inline SVG drawn by
//! `plotters`; the page has no script and fetches nothing (fonts, images, styles are all inline or
//! the reader's own), so it reads offline and can be attached to an e-mail. Every value taken
//! from the logs is escaped.

mod charts;
mod html;

use anyhow::{Context, Result};

use crate::client::Client;
use crate::questions::{self as q, Scope, SignIn};

pub use html::render;

/// What a report is asked for.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The period.
    pub scope: Scope,
    /// The addresses console sign-ins are expected from (IPs or CIDR blocks).
    pub allowed: Vec<String>,
    /// The cluster, as the header names it (its URL without credentials).
    pub cluster: String,
}

/// Everything one report shows, as read from the cluster.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The period asked for.
    pub scope: Scope,
    /// The cluster's URL.
    pub cluster: String,
    /// The allowed addresses the sign-ins were checked against.
    pub allowed: Vec<String>,
    /// Documents per family in the period: `(index pattern, documents)`.
    pub counts: Vec<(String, u64)>,
    /// `CloudTrail` events per hour of day (UTC).
    pub hours: Vec<u64>,
    /// `CloudTrail` events per day.
    pub days: Vec<(String, u64)>,
    /// The most frequent event names.
    pub event_names: Vec<(String, u64)>,
    /// Failed console sign-ins.
    pub failed_sign_ins: Vec<SignIn>,
    /// Console sign-ins from outside the allowed addresses (none asked when no list is given).
    pub outside_sign_ins: Option<Vec<SignIn>>,
    /// Callers on the map: `(tile, calls, lat, lon)`.
    pub callers: Vec<(String, u64, f64, f64)>,
    /// Calls per country: `(country, calls, console sign-ins)`.
    pub call_countries: Vec<(String, u64, u64)>,
    /// WAF: the rules that blocked most.
    pub waf_rules: Vec<(String, u64)>,
    /// WAF: requests per client country: `(country, requests, blocked)`.
    pub waf_countries: Vec<(String, u64, u64)>,
    /// VPC: top talkers `(source, bytes, flows)`.
    pub talkers: Vec<(String, u64, u64)>,
    /// VPC: rejected flows in all, and by source `(source, flows, ports)`.
    pub rejected: (u64, Vec<(String, u64, Vec<String>)>),
    /// Route 53: the most queried domains.
    pub domains: Vec<(String, u64)>,
    /// Route 53: NXDOMAIN by source `(source, queries, NXDOMAIN)`.
    pub nxdomain: Vec<(String, u64, u64)>,
    /// Route 53: the highest-entropy names `(name, entropy, length, source)`.
    pub entropy: Vec<(String, f64, u64, String)>,
    /// Security Hub: findings by product `(product, findings, [(severity, findings)])`.
    pub findings: Vec<q::ProductFindings>,
    /// Alerts by rule `(title, level, alerts)`.
    pub alerts: Vec<(String, String, u64)>,
}

impl Report {
    /// A report of one row per list whose every string is `text`: what the tests render to show
    /// that no value taken from the logs can run or break anything in the page.
    #[must_use]
    pub fn every_string(text: &str) -> Self {
        let t = || text.to_owned();
        let sign_in = || SignIn { time: t(), user: t(), source: t(), outcome: t() };
        Self {
            scope: Scope::all(),
            cluster: t(),
            allowed: vec![t()],
            counts: vec![(t(), 1)],
            hours: vec![2; 24],
            days: vec![(t(), 2)],
            event_names: vec![(t(), 3)],
            failed_sign_ins: vec![sign_in()],
            outside_sign_ins: Some(vec![sign_in()]),
            callers: vec![(t(), 4, 1.0, 2.0)],
            call_countries: vec![(t(), 5, 1)],
            waf_rules: vec![(t(), 6)],
            waf_countries: vec![(t(), 7, 1)],
            talkers: vec![(t(), 8, 1)],
            rejected: (1, vec![(t(), 1, vec![t()])]),
            domains: vec![(t(), 9)],
            nxdomain: vec![(t(), 2, 1)],
            entropy: vec![(t(), 4.5, 12, t())],
            findings: vec![(t(), 10, vec![(t(), 10)])],
            alerts: vec![(t(), t(), 11)],
        }
    }
}

/// The families a report counts, in the header's order.
const FAMILIES: [&str; 8] =
    [q::CLOUDTRAIL, q::WAF, q::VPCFLOW, q::ROUTE53, q::SECURITYHUB, q::ALB, q::ALERTS, q::DEADLETTERS];

/// Asks the cluster every question of the report.
///
/// # Errors
/// When a search fails.
pub async fn gather(client: &Client, options: &Options) -> Result<Report> {
    let scope = &options.scope;
    let mut counts = Vec::new();
    for family in FAMILIES {
        counts.push((family.to_owned(), scope.count(client, family).await?));
    }
    let outside_sign_ins = if options.allowed.is_empty() {
        None
    } else {
        Some(q::console_logins_outside(client, scope, &options.allowed).await?)
    };
    Ok(Report {
        scope: *scope,
        cluster: options.cluster.clone(),
        allowed: options.allowed.clone(),
        counts,
        hours: q::events_per_hour_of_day(client, scope).await?.to_vec(),
        days: q::events_per_day(client, scope).await?,
        event_names: q::top_event_names(client, scope, 15).await?,
        failed_sign_ins: q::failed_console_logins(client, scope).await?,
        outside_sign_ins,
        callers: q::call_map(client, scope, 200).await?,
        call_countries: q::call_countries(client, scope, 15).await?,
        waf_rules: q::top_blocked_rules(client, scope, 10).await?,
        waf_countries: q::top_client_countries(client, scope, 10).await?,
        talkers: q::top_talkers(client, scope, 10).await?,
        rejected: q::rejected_flows(client, scope, 10).await?,
        domains: q::top_queried_domains(client, scope, 10).await?,
        nxdomain: q::nxdomain_by_source(client, scope, 10).await?,
        entropy: q::highest_entropy_names(client, scope, 10).await?,
        findings: q::findings_by_product(client, scope, 10).await?,
        alerts: q::alerts_by_rule(client, scope, 20).await?,
    })
}

/// Asks the questions and writes the page to `out`.
///
/// # Errors
/// When a search fails or `out` cannot be written.
pub async fn write(client: &Client, options: &Options, out: &std::path::Path) -> Result<Report> {
    let report = gather(client, options).await?;
    std::fs::write(out, render(&report)?).with_context(|| format!("writing {}", out.display()))?;
    Ok(report)
}

/// The cluster as the header names it: its URL without user name, password or query.
#[must_use]
pub fn cluster_name(endpoint: &str) -> String {
    match url::Url::parse(endpoint) {
        Ok(mut url) => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.set_query(None);
            url.to_string()
        }
        Err(_) => "(not a URL)".to_owned(),
    }
}
