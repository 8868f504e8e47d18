//! The demo: a local `osmem-server`, the templates, every fixture replayed, and our users'
//! questions answered from the index with real queries.

use std::io::Write;
use std::path::Path;

use anyhow::Result;
use seclog_core::sink::opensearch::config::OpenSearchConfig;
use seclog_core::sink::opensearch::OpenSearchSink;

use crate::client::Client;
use crate::osmem::Server;
use crate::questions::{self as q, Scope, SignIn, CLOUDTRAIL, ROUTE53, SECURITYHUB, VPCFLOW, WAF};
use crate::{replay, report, templates};

/// Runs the whole demo, writing the answers to `out`.
///
/// # Errors
/// When the server cannot be started or a step fails.
pub async fn run(
    fixtures: &Path,
    allowed: &[String],
    enricher: std::sync::Arc<seclog_enrich::Enricher>,
    report_to: Option<&Path>,
    out: &mut impl Write,
) -> Result<()> {
    let server = Server::start()?;
    writeln!(out, "osmem-server listening on {}", server.url())?;
    let config = OpenSearchConfig::local(server.url())?;
    let client = Client::new(config.clone()).await?;
    let installed = templates::install(&client, None).await?;
    writeln!(out, "installed index templates: {}", installed.names.join(", "))?;

    let (files, report, rules) = index_fixtures(&client, fixtures, allowed, enricher).await?;
    writeln!(out, "\nreplayed {files} event files from {}:", fixtures.display())?;
    report.print(out)?;
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
    let hours = q::events_per_hour_of_day(&client, &Scope::all()).await?;
    let max = hours.iter().copied().max().unwrap_or(0).max(1);
    for (h, n) in hours.iter().enumerate() {
        let bar = "#".repeat(usize::try_from(n * 50 / max).unwrap_or(0));
        writeln!(out, "   {h:02}:00 {n:>6} {bar}")?;
    }

    writeln!(out, "\n2. Top event names")?;
    for (name, n) in q::top_event_names(&client, &Scope::all(), 10).await? {
        writeln!(out, "   {n:>6}  {name}")?;
    }

    writeln!(out, "\n3. Failed console sign-ins")?;
    let failed = q::failed_console_logins(&client, &Scope::all()).await?;
    print_sign_ins(out, &failed)?;

    writeln!(out, "\n4. Console sign-ins from outside the allowed addresses ({})", allowed.join(", "))?;
    print_sign_ins(out, &q::console_logins_outside(&client, &Scope::all(), allowed).await?)?;

    writeln!(out, "\n5. WAF: which rules block the most requests?")?;
    for (rule, n) in q::top_blocked_rules(&client, &Scope::all(), 10).await? {
        writeln!(out, "   {n:>6}  {rule}")?;
    }
    writeln!(out, "\n6. WAF: where do requests come from? (client country: requests, blocked)")?;
    for (country, n, blocked) in q::top_client_countries(&client, &Scope::all(), 10).await? {
        writeln!(out, "   {country:<4} {n:>6} {blocked:>6}")?;
    }
    writeln!(out, "\n7. VPC: top talkers (source: bytes sent, flows)")?;
    for (ip, bytes, flows) in q::top_talkers(&client, &Scope::all(), 10).await? {
        writeln!(out, "   {ip:<40} {bytes:>12} {flows:>6}")?;
    }
    let (rejected, sources) = q::rejected_flows(&client, &Scope::all(), 10).await?;
    writeln!(out, "\n8. VPC: rejected flows ({rejected} in all; by source, with the ports tried)")?;
    for (ip, n, ports) in sources {
        writeln!(out, "   {ip:<40} {n:>6}  ports {}", ports.join(", "))?;
    }
    writeln!(
        out,
        "\n9. From which countries do we get API calls and console logins? (GeoIP: calls, console sign-ins)"
    )?;
    for (country, calls, logins) in q::call_countries(&client, &Scope::all(), 10).await? {
        writeln!(out, "   {country:<4} {calls:>6} {logins:>6}")?;
    }
    writeln!(out, "\n10. A map of callers (geotile_grid zoom 3: tile, calls, centroid)")?;
    for (tile, calls, lat, lon) in q::call_map(&client, &Scope::all(), 10).await? {
        writeln!(out, "   {tile:<10} {calls:>6}  {lat:>8.3} {lon:>9.3}")?;
    }
    writeln!(out, "\n11. Calls from penetration-testing distributions (user agent)")?;
    let pentest = q::pentest_agents(&client, &Scope::all(), 10).await?;
    if pentest.is_empty() {
        writeln!(out, "   (none)")?;
    }
    for [time, user, source, event, os] in pentest {
        writeln!(out, "   {time}  {user:<20} from {source:<20} {event:<24} {os}")?;
    }
    dns_and_findings(&client, out).await?;
    Box::pin(crate::detect::demo_question(&config, rules, out)).await?;
    if let Some(path) = report_to {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let options =
            report::Options { scope: Scope::all(), allowed: allowed.to_vec(), cluster: server.url().to_owned() };
        report::write(&client, &options, path).await?;
    }
    drop(server);
    writeln!(out, "\nosmem-server stopped.")?;
    if let Some(path) = report_to {
        writeln!(out, "The same answers as charts and a map of callers, to open in a browser: {}", path.display())?;
    }
    Ok(())
}

/// Replays every recorded event of `fixtures` into `client`'s cluster (templates installed), with the
/// bundled rules and `allowed` as the allowed addresses, and refreshes it: how many files, what
/// the replay did, and the rules it evaluated.
///
/// # Errors
/// When a file cannot be read or the cluster refuses a request.
pub async fn index_fixtures(
    client: &Client,
    fixtures: &Path,
    allowed: &[String],
    enricher: std::sync::Arc<seclog_enrich::Enricher>,
) -> Result<(usize, replay::Report, std::sync::Arc<seclog_rules::RuleSet>)> {
    let files = replay::discover(&[fixtures.to_path_buf()])?;
    let sink = OpenSearchSink::with_signer(client.config().clone(), None)?;
    let deadletters = sink.deadletters().clone();
    let rules = seclog_rules::RulesConfig {
        allowed_cidrs: seclog_rules::config::parse_cidrs(&allowed.join(",")).map_err(anyhow::Error::msg)?,
        ..seclog_rules::RulesConfig::bundled()
    };
    let rules = std::sync::Arc::new(seclog_rules::RuleSet::load(&rules)?);
    let options = replay::Options { rules: rules.clone(), ..replay::Options::new(enricher) };
    let (report, _) = replay::replay(&files, &options, sink, deadletters, |_, _, _| {}).await?;
    client.refresh().await?;
    Ok((files.len(), report, rules))
}

/// Questions 12 to 17: Route 53, Security Hub and the load balancer.
async fn dns_and_findings(client: &Client, out: &mut impl Write) -> Result<()> {
    writeln!(out, "\n12. Route 53: top queried domains (registered domain: queries)")?;
    for (domain, n) in q::top_queried_domains(client, &Scope::all(), 10).await? {
        writeln!(out, "   {n:>6}  {domain}")?;
    }
    writeln!(out, "\n13. Route 53: NXDOMAIN rate by source (queries, NXDOMAIN, rate)")?;
    for (source, n, nx) in q::nxdomain_by_source(client, &Scope::all(), 10).await? {
        #[allow(clippy::cast_precision_loss)]
        let rate = if n == 0 { 0.0 } else { nx as f64 * 100.0 / n as f64 };
        writeln!(out, "   {source:<40} {n:>6} {nx:>6} {rate:>5.0}%")?;
    }
    writeln!(out, "\n14. Route 53: highest-entropy names (left-most label: entropy bits/byte, length)")?;
    for (name, entropy, length, source) in q::highest_entropy_names(client, &Scope::all(), 10).await? {
        writeln!(out, "   {entropy:>6.3} {length:>4}  {name}  (from {source})")?;
    }
    writeln!(out, "\n15. Security Hub: findings by product and severity")?;
    for (product, n, severities) in q::findings_by_product(client, &Scope::all(), 10).await? {
        let detail: Vec<String> = severities.iter().map(|(s, n)| format!("{s} {n}")).collect();
        writeln!(out, "   {product:<28} {n:>5}  {}", detail.join(", "))?;
    }
    writeln!(out, "\n16. Security Hub: the controls that fail most (active findings)")?;
    for (control, n, title) in q::top_failing_controls(client, &Scope::all(), 10).await? {
        writeln!(out, "   {n:>5}  {control:<12} {title}")?;
    }
    writeln!(out, "\n17. Load balancer: the targets that answer 5xx most, and their clients (S3 access logs)")?;
    let targets = q::top_5xx_targets(client, &Scope::all(), 5).await?;
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
