//! The demo: a local `osmem-server`, the templates, every fixture replayed, and our users'
//! questions answered from the index with real queries.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use chrono::{DateTime, Timelike};
use seclog_core::sink::opensearch::config::OpenSearchConfig;
use seclog_core::sink::opensearch::OpenSearchSink;
use serde_json::{json, Value};

use crate::aggregations::{buckets, key, raw_buckets};
use crate::client::Client;
use crate::osmem::Server;
use crate::{replay, templates};

/// The `CloudTrail` index pattern the questions are asked of.
const CLOUDTRAIL: &str = "cloudtrail-*";
/// The WAF index pattern.
const WAF: &str = "waf-*";
/// The VPC Flow Logs index pattern.
const VPCFLOW: &str = "vpcflow-*";
/// Both Route 53 families: Resolver and public query logs.
const ROUTE53: &str = "route53-*";
/// Every Security Hub product family.
const SECURITYHUB: &str = "securityhub-*";
/// Application Load Balancer access logs.
const ALB: &str = "alb-*";

/// A console sign-in, as the answers list them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignIn {
    /// When.
    pub time: String,
    /// Who (`user.name`).
    pub user: String,
    /// From where (`sourceIPAddress`).
    pub source: String,
    /// `success` or `failure`.
    pub outcome: String,
}

/// Events per hour of day (UTC), 0 to 23: when is our cloud busiest?
///
/// osmem has no script aggregations, so this asks for an hourly `date_histogram` and folds the
/// buckets by hour of day.
///
/// # Errors
/// When the search fails.
pub async fn events_per_hour_of_day(client: &Client) -> Result<[u64; 24]> {
    let body = json!({"size": 0, "aggs": {"h": {"date_histogram": {"field": "@timestamp", "fixed_interval": "1h", "min_doc_count": 1}}}});
    let v = client.search(CLOUDTRAIL, &body).await?;
    let mut hours = [0_u64; 24];
    for b in v["aggregations"]["h"]["buckets"].as_array().map(Vec::as_slice).unwrap_or_default() {
        let key = b["key"].as_i64().context("bucket key")?;
        let hour = DateTime::from_timestamp_millis(key).context("bucket time")?.hour();
        hours[hour as usize] += b["doc_count"].as_u64().unwrap_or(0);
    }
    Ok(hours)
}

/// The most frequent event names.
///
/// # Errors
/// When the search fails.
pub async fn top_event_names(client: &Client, n: usize) -> Result<Vec<(String, u64)>> {
    let body = json!({"size": 0, "aggs": {"names": {"terms": {"field": "eventName", "size": n}}}});
    let v = client.search(CLOUDTRAIL, &body).await?;
    Ok(buckets(&v["aggregations"]["names"]))
}

/// Failed console sign-ins, newest first.
///
/// # Errors
/// When the search fails.
pub async fn failed_console_logins(client: &Client) -> Result<Vec<SignIn>> {
    let query = json!({"bool": {"filter": [
        {"term": {"eventName": "ConsoleLogin"}},
        {"term": {"event.outcome": "failure"}}
    ]}});
    sign_ins(client, query).await
}

/// Console sign-ins from addresses outside `allowed` (IPs or CIDR blocks): the `CloudTrail`
/// Lake example many teams run today. Sign-ins without an IP address count as outside.
///
/// # Errors
/// When the search fails.
pub async fn console_logins_outside(client: &Client, allowed: &[String]) -> Result<Vec<SignIn>> {
    let query = json!({"bool": {
        "filter": [{"term": {"eventName": "ConsoleLogin"}}],
        "must_not": allowed.iter().map(|cidr| json!({"term": {"source.ip": cidr}})).collect::<Vec<_>>()
    }});
    sign_ins(client, query).await
}

/// The `_source` of each hit of a search response.
fn sources(response: &Value) -> impl Iterator<Item = &Value> {
    response["hits"]["hits"].as_array().map(Vec::as_slice).unwrap_or_default().iter().map(|h| &h["_source"])
}

/// A string field's text, `-` when missing.
fn text(value: &Value) -> String {
    value.as_str().unwrap_or("-").to_owned()
}

async fn sign_ins(client: &Client, query: Value) -> Result<Vec<SignIn>> {
    let body = json!({"size": 100, "query": query, "sort": [{"@timestamp": "desc"}]});
    let v = client.search(CLOUDTRAIL, &body).await?;
    Ok(sources(&v)
        .map(|s| SignIn {
            time: text(&s["@timestamp"]),
            user: text(&s["user"]["name"]),
            source: text(&s["sourceIPAddress"]),
            outcome: text(&s["event"]["outcome"]),
        })
        .collect())
}

/// The rules that blocked the most requests (`rule.id`; for rule groups, the group's rule id
/// is in `waf.terminating_rule.rule_id`).
///
/// # Errors
/// When the search fails.
pub async fn top_blocked_rules(client: &Client, n: usize) -> Result<Vec<(String, u64)>> {
    let body = json!({"size": 0, "query": {"term": {"action": "BLOCK"}},
        "aggs": {"rules": {"terms": {"field": "rule.id", "size": n}}}});
    let v = client.search(WAF, &body).await?;
    Ok(buckets(&v["aggregations"]["rules"]))
}

/// Requests per client country (WAF's own `httpRequest.country`), with how many were blocked:
/// `(country, requests, blocked)`.
///
/// # Errors
/// When the search fails.
pub async fn top_client_countries(client: &Client, n: usize) -> Result<Vec<(String, u64, u64)>> {
    let body = json!({"size": 0, "aggs": {"countries": {"terms": {"field": "source.geo.country_iso_code", "size": n},
        "aggs": {"blocked": {"filter": {"term": {"action": "BLOCK"}}}}}}});
    let v = client.search(WAF, &body).await?;
    Ok(raw_buckets(&v["aggregations"]["countries"])
        .iter()
        .map(|b| (key(b), b["doc_count"].as_u64().unwrap_or(0), b["blocked"]["doc_count"].as_u64().unwrap_or(0)))
        .collect())
}

/// Where `CloudTrail` calls come from, by the `GeoIP` country of `sourceIPAddress`:
/// `(country, calls, console sign-ins)`. Calls from AWS services (`AWS Internal`,
/// `*.amazonaws.com`) and private addresses have no country and are not counted.
///
/// # Errors
/// When the search fails.
pub async fn call_countries(client: &Client, n: usize) -> Result<Vec<(String, u64, u64)>> {
    let body = json!({"size": 0, "aggs": {"countries": {"terms": {"field": "source.geo.country_iso_code", "size": n},
        "aggs": {"logins": {"filter": {"term": {"event.action": "ConsoleLogin"}}}}}}});
    let v = client.search(CLOUDTRAIL, &body).await?;
    Ok(raw_buckets(&v["aggregations"]["countries"])
        .iter()
        .map(|b| (key(b), b["doc_count"].as_u64().unwrap_or(0), b["logins"]["doc_count"].as_u64().unwrap_or(0)))
        .collect())
}

/// A map of `CloudTrail` callers: `geotile_grid` cells of `source.geo.location` (zoom 3) with
/// the centroid of each: `(tile, calls, lat, lon)`, most calls first.
///
/// # Errors
/// When the search fails.
pub async fn call_map(client: &Client, n: usize) -> Result<Vec<(String, u64, f64, f64)>> {
    let body = json!({"size": 0, "aggs": {"tiles": {"geotile_grid": {"field": "source.geo.location", "precision": 3, "size": n},
        "aggs": {"centre": {"geo_centroid": {"field": "source.geo.location"}}}}}});
    let v = client.search(CLOUDTRAIL, &body).await?;
    Ok(raw_buckets(&v["aggregations"]["tiles"])
        .iter()
        .map(|b| {
            let centre = &b["centre"]["location"];
            (
                key(b),
                b["doc_count"].as_u64().unwrap_or(0),
                centre["lat"].as_f64().unwrap_or(0.0),
                centre["lon"].as_f64().unwrap_or(0.0),
            )
        })
        .collect())
}

/// `CloudTrail` calls whose user agent names a penetration-testing distribution:
/// `(time, user, source, event name, agent)`.
///
/// # Errors
/// When the search fails.
pub async fn pentest_agents(client: &Client, n: usize) -> Result<Vec<[String; 5]>> {
    let body = json!({"size": n, "query": {"term": {"user_agent.pentest": true}}, "sort": [{"@timestamp": "asc"}],
        "_source": ["@timestamp", "user.name", "source.address", "eventName", "user_agent.os.name"]});
    let v = client.search(CLOUDTRAIL, &body).await?;
    Ok(sources(&v)
        .map(|d| {
            [
                text(&d["@timestamp"]),
                text(&d["user"]["name"]),
                text(&d["source"]["address"]),
                text(&d["eventName"]),
                text(&d["user_agent"]["os"]["name"]),
            ]
        })
        .collect())
}

/// The source addresses that sent the most bytes: `(address, bytes, flows)`.
///
/// # Errors
/// When the search fails.
pub async fn top_talkers(client: &Client, n: usize) -> Result<Vec<(String, u64, u64)>> {
    let body = json!({"size": 0, "aggs": {"talkers": {"terms": {"field": "source.ip", "size": n, "order": {"bytes": "desc"}},
        "aggs": {"bytes": {"sum": {"field": "network.bytes"}}}}}});
    let v = client.search(VPCFLOW, &body).await?;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(raw_buckets(&v["aggregations"]["talkers"])
        .iter()
        .map(|b| (key(b), b["bytes"]["value"].as_f64().unwrap_or(0.0) as u64, b["doc_count"].as_u64().unwrap_or(0)))
        .collect())
}

/// Rejected flows: how many, and the sources with the most rejected flows with the ports they
/// tried: `(total, [(source, flows, [ports])])`.
///
/// # Errors
/// When the search fails.
pub async fn rejected_flows(client: &Client, n: usize) -> Result<(u64, Vec<(String, u64, Vec<String>)>)> {
    let body = json!({"size": 0, "track_total_hits": true, "query": {"term": {"event.action": "reject"}},
        "aggs": {"sources": {"terms": {"field": "source.ip", "size": n},
            "aggs": {"ports": {"terms": {"field": "destination.port", "size": 5}}}}}});
    let v = client.search(VPCFLOW, &body).await?;
    let total = v["hits"]["total"]["value"].as_u64().unwrap_or(0);
    let sources = raw_buckets(&v["aggregations"]["sources"])
        .iter()
        .map(|b| {
            let ports = raw_buckets(&b["ports"]).iter().map(key).collect();
            (key(b), b["doc_count"].as_u64().unwrap_or(0), ports)
        })
        .collect();
    Ok((total, sources))
}

/// The most queried registered domains, over both kinds of query log: `(domain, queries)`.
///
/// # Errors
/// When the search fails.
pub async fn top_queried_domains(client: &Client, n: usize) -> Result<Vec<(String, u64)>> {
    let body =
        json!({"size": 0, "aggs": {"domains": {"terms": {"field": "dns.question.registered_domain", "size": n}}}});
    let v = client.search(ROUTE53, &body).await?;
    Ok(buckets(&v["aggregations"]["domains"]))
}

/// NXDOMAIN answers by source (the VPC client, or the public resolver): `(source, queries,
/// NXDOMAIN)` for the `n` busiest sources, most NXDOMAIN first (then the higher rate, then the
/// address). Many NXDOMAIN from one source is how generated-domain malware and scanning look.
///
/// # Errors
/// When the search fails.
pub async fn nxdomain_by_source(client: &Client, n: usize) -> Result<Vec<(String, u64, u64)>> {
    let body = json!({"size": 0, "aggs": {"sources": {"terms": {"field": "source.ip", "size": n},
        "aggs": {"nx": {"filter": {"term": {"dns.response_code": "NXDOMAIN"}}}}}}});
    let v = client.search(ROUTE53, &body).await?;
    let mut rows: Vec<(String, u64, u64)> = raw_buckets(&v["aggregations"]["sources"])
        .iter()
        .map(|b| (key(b), b["doc_count"].as_u64().unwrap_or(0), b["nx"]["doc_count"].as_u64().unwrap_or(0)))
        .collect();
    // nx/total > other_nx/other_total, compared without division.
    rows.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| (b.2 * a.1).cmp(&(a.2 * b.1))).then_with(|| a.0.cmp(&b.0)));
    Ok(rows)
}

/// The queried names whose left-most label has the highest Shannon entropy (DNS tunnels and
/// generated domains): `(name, entropy, label length, source)`.
///
/// # Errors
/// When the search fails.
pub async fn highest_entropy_names(client: &Client, n: usize) -> Result<Vec<(String, f64, u64, String)>> {
    let body = json!({"size": n, "sort": [{"dns.question.first_label.entropy": "desc"}, {"dns.question.name": "asc"}],
        "_source": ["dns.question.name", "dns.question.first_label", "source.address"]});
    let v = client.search(ROUTE53, &body).await?;
    Ok(sources(&v)
        .map(|d| {
            let label = &d["dns"]["question"]["first_label"];
            (
                text(&d["dns"]["question"]["name"]),
                label["entropy"].as_f64().unwrap_or(0.0),
                label["length"].as_u64().unwrap_or(0),
                text(&d["source"]["address"]),
            )
        })
        .collect())
}

/// Findings per product and severity: `(product, findings, [(severity, findings)])`, most findings
/// first. One document per finding, so updates are not counted twice.
///
/// # Errors
/// When the search fails.
pub async fn findings_by_product(client: &Client, n: usize) -> Result<Vec<(String, u64, Vec<(String, u64)>)>> {
    let body = json!({"size": 0, "aggs": {"products": {"terms": {"field": "finding.product", "size": n},
        "aggs": {"severity": {"terms": {"field": "finding.severity.label", "size": 5}}}}}});
    let v = client.search(SECURITYHUB, &body).await?;
    Ok(raw_buckets(&v["aggregations"]["products"])
        .iter()
        .map(|b| (key(b), b["doc_count"].as_u64().unwrap_or(0), buckets(&b["severity"])))
        .collect())
}

/// The controls with the most failed compliance checks: `(control, failed findings, title)`.
///
/// # Errors
/// When the search fails.
pub async fn top_failing_controls(client: &Client, n: usize) -> Result<Vec<(String, u64, String)>> {
    let body = json!({"size": 0, "query": {"bool": {"filter": [
            {"term": {"finding.compliance_status": "FAILED"}}, {"term": {"finding.record_state": "ACTIVE"}}]}},
        "aggs": {"controls": {"terms": {"field": "finding.control_id", "size": n},
            "aggs": {"title": {"terms": {"field": "finding.title.keyword", "size": 1}}}}}});
    let v = client.search(SECURITYHUB, &body).await?;
    Ok(raw_buckets(&v["aggregations"]["controls"])
        .iter()
        .map(|b| {
            let title = raw_buckets(&b["title"]).first().map(key).unwrap_or_default();
            (key(b), b["doc_count"].as_u64().unwrap_or(0), title)
        })
        .collect())
}

/// The load-balancer targets that answered 5xx most (or were not reached: the load balancer's own
/// 5xx), with the clients that got them: `(target, 5xx answers, [(client, answers)])`; a 5xx
/// without a target is counted under `-`.
///
/// # Errors
/// When the search fails.
pub async fn top_5xx_targets(client: &Client, n: usize) -> Result<Vec<(String, u64, Vec<(String, u64)>)>> {
    let body = json!({"size": 0, "query": {"range": {"http.response.status_code": {"gte": 500, "lte": 599}}},
        "aggs": {"targets": {"terms": {"field": "aws.elb.target_port", "size": n, "missing": "-"},
            "aggs": {"clients": {"terms": {"field": "client.ip", "size": 3}}}}}});
    let v = client.search(ALB, &body).await?;
    Ok(raw_buckets(&v["aggregations"]["targets"])
        .iter()
        .map(|b| {
            let clients = raw_buckets(&b["clients"]).iter().map(|c| (key(c), c["doc_count"].as_u64().unwrap_or(0)));
            (key(b), b["doc_count"].as_u64().unwrap_or(0), clients.collect())
        })
        .collect())
}

/// Runs the whole demo, writing the answers to `out`.
///
/// # Errors
/// When the server cannot be started or a step fails.
pub async fn run(
    fixtures: &Path,
    allowed: &[String],
    enricher: std::sync::Arc<seclog_enrich::Enricher>,
    out: &mut impl Write,
) -> Result<()> {
    let server = Server::start()?;
    writeln!(out, "osmem-server listening on {}", server.url())?;
    let config = OpenSearchConfig::local(server.url())?;
    let client = Client::new(config.clone()).await?;
    let installed = templates::install(&client, None).await?;
    writeln!(out, "installed index templates: {}", installed.names.join(", "))?;

    let files = replay::discover(&[fixtures.to_path_buf()])?;
    let sink = OpenSearchSink::with_signer(config.clone(), None)?;
    let deadletters = sink.deadletters().clone();
    let rules = seclog_rules::RulesConfig {
        allowed_cidrs: seclog_rules::config::parse_cidrs(&allowed.join(",")).map_err(anyhow::Error::msg)?,
        ..seclog_rules::RulesConfig::bundled()
    };
    let rules = std::sync::Arc::new(seclog_rules::RuleSet::load(&rules)?);
    let options = replay::Options { rules: rules.clone(), ..replay::Options::new(enricher) };
    let (report, _) = replay::replay(&files, &options, sink, deadletters, |_, _, _| {}).await?;
    writeln!(out, "\nreplayed {} event files from {}:", files.len(), fixtures.display())?;
    report.print(out)?;
    client.refresh().await?;
    writeln!(
        out,
        "\ndocuments: {} in {CLOUDTRAIL}, {} in {WAF}, {} in {VPCFLOW}, {} in {ROUTE53}, {} in {SECURITYHUB}, {} dead-lettered",
        client.count(CLOUDTRAIL).await?,
        client.count(WAF).await?,
        client.count(VPCFLOW).await?,
        client.count(ROUTE53).await?,
        client.count(SECURITYHUB).await?,
        client.count("*-deadletter-*").await?
    )?;

    writeln!(out, "\n1. When is our cloud busiest? CloudTrail events per hour of day (UTC)")?;
    let hours = events_per_hour_of_day(&client).await?;
    let max = hours.iter().copied().max().unwrap_or(0).max(1);
    for (h, n) in hours.iter().enumerate() {
        let bar = "#".repeat(usize::try_from(n * 50 / max).unwrap_or(0));
        writeln!(out, "   {h:02}:00 {n:>6} {bar}")?;
    }

    writeln!(out, "\n2. Top event names")?;
    for (name, n) in top_event_names(&client, 10).await? {
        writeln!(out, "   {n:>6}  {name}")?;
    }

    writeln!(out, "\n3. Failed console sign-ins")?;
    let failed = failed_console_logins(&client).await?;
    print_sign_ins(out, &failed)?;

    writeln!(out, "\n4. Console sign-ins from outside the allowed addresses ({})", allowed.join(", "))?;
    print_sign_ins(out, &console_logins_outside(&client, allowed).await?)?;

    writeln!(out, "\n5. WAF: which rules block the most requests?")?;
    for (rule, n) in top_blocked_rules(&client, 10).await? {
        writeln!(out, "   {n:>6}  {rule}")?;
    }
    writeln!(out, "\n6. WAF: where do requests come from? (client country: requests, blocked)")?;
    for (country, n, blocked) in top_client_countries(&client, 10).await? {
        writeln!(out, "   {country:<4} {n:>6} {blocked:>6}")?;
    }
    writeln!(out, "\n7. VPC: top talkers (source: bytes sent, flows)")?;
    for (ip, bytes, flows) in top_talkers(&client, 10).await? {
        writeln!(out, "   {ip:<40} {bytes:>12} {flows:>6}")?;
    }
    let (rejected, sources) = rejected_flows(&client, 10).await?;
    writeln!(out, "\n8. VPC: rejected flows ({rejected} in all; by source, with the ports tried)")?;
    for (ip, n, ports) in sources {
        writeln!(out, "   {ip:<40} {n:>6}  ports {}", ports.join(", "))?;
    }
    writeln!(
        out,
        "\n9. From which countries do we get API calls and console logins? (GeoIP: calls, console sign-ins)"
    )?;
    for (country, calls, logins) in call_countries(&client, 10).await? {
        writeln!(out, "   {country:<4} {calls:>6} {logins:>6}")?;
    }
    writeln!(out, "\n10. A map of callers (geotile_grid zoom 3: tile, calls, centroid)")?;
    for (tile, calls, lat, lon) in call_map(&client, 10).await? {
        writeln!(out, "   {tile:<10} {calls:>6}  {lat:>8.3} {lon:>9.3}")?;
    }
    writeln!(out, "\n11. Calls from penetration-testing distributions (user agent)")?;
    let pentest = pentest_agents(&client, 10).await?;
    if pentest.is_empty() {
        writeln!(out, "   (none)")?;
    }
    for [time, user, source, event, os] in pentest {
        writeln!(out, "   {time}  {user:<20} from {source:<20} {event:<24} {os}")?;
    }
    dns_and_findings(&client, out).await?;
    Box::pin(crate::detect::demo_question(&config, rules, out)).await?;
    drop(server);
    writeln!(out, "\nosmem-server stopped.")?;
    Ok(())
}

/// Questions 12 to 17: Route 53, Security Hub and the load balancer.
async fn dns_and_findings(client: &Client, out: &mut impl Write) -> Result<()> {
    writeln!(out, "\n12. Route 53: top queried domains (registered domain: queries)")?;
    for (domain, n) in top_queried_domains(client, 10).await? {
        writeln!(out, "   {n:>6}  {domain}")?;
    }
    writeln!(out, "\n13. Route 53: NXDOMAIN rate by source (queries, NXDOMAIN, rate)")?;
    for (source, n, nx) in nxdomain_by_source(client, 10).await? {
        #[allow(clippy::cast_precision_loss)]
        let rate = if n == 0 { 0.0 } else { nx as f64 * 100.0 / n as f64 };
        writeln!(out, "   {source:<40} {n:>6} {nx:>6} {rate:>5.0}%")?;
    }
    writeln!(out, "\n14. Route 53: highest-entropy names (left-most label: entropy bits/byte, length)")?;
    for (name, entropy, length, source) in highest_entropy_names(client, 10).await? {
        writeln!(out, "   {entropy:>6.3} {length:>4}  {name}  (from {source})")?;
    }
    writeln!(out, "\n15. Security Hub: findings by product and severity")?;
    for (product, n, severities) in findings_by_product(client, 10).await? {
        let detail: Vec<String> = severities.iter().map(|(s, n)| format!("{s} {n}")).collect();
        writeln!(out, "   {product:<28} {n:>5}  {}", detail.join(", "))?;
    }
    writeln!(out, "\n16. Security Hub: the controls that fail most (active findings)")?;
    for (control, n, title) in top_failing_controls(client, 10).await? {
        writeln!(out, "   {n:>5}  {control:<12} {title}")?;
    }
    writeln!(out, "\n17. Load balancer: the targets that answer 5xx most, and their clients (S3 access logs)")?;
    let targets = top_5xx_targets(client, 5).await?;
    if targets.is_empty() {
        writeln!(out, "   (none)")?;
    }
    for (target, n, clients) in targets {
        let clients: Vec<String> = clients.iter().map(|(ip, n)| format!("{ip} {n}")).collect();
        writeln!(out, "   {target:<22} {n:>5}  {}", clients.join(", "))?;
    }
    Ok(())
}

fn print_sign_ins(out: &mut impl Write, list: &[SignIn]) -> Result<()> {
    if list.is_empty() {
        writeln!(out, "   (none)")?;
    }
    for s in list {
        writeln!(out, "   {}  {:<40} from {:<20} {}", s.time, s.user, s.source, s.outcome)?;
    }
    Ok(())
}
