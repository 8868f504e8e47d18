//! `seclog`: replay recorded events, install index templates, run the demo.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use clap::{Args, Parser, Subcommand};
use seclog_cli::client::Client;
use seclog_cli::replay::{self, Source};
use seclog_cli::{demo, templates};
use seclog_core::config::Env;
use seclog_core::deadletter::DeadLetters;
use seclog_core::sink::opensearch::config::OpenSearchConfig;
use seclog_core::sink::opensearch::OpenSearchSink;
use seclog_core::sink::MemorySink;

#[derive(Parser)]
#[command(name = "seclog", version, about = "AWS security logs into OpenSearch: replay, templates, demo")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
#[allow(clippy::doc_markdown)] // clap's help text, shown to users as written
enum Command {
    /// Run recorded Lambda events through the real handlers, or backfill logs already in S3.
    ///
    /// Paths are event files or folders (searched for *.json, and for log objects as AWS delivers
    /// them to S3: *.gz under an AWSLogs/ folder). An s3://BUCKET[/PREFIX] reads the objects there
    /// (AWS credentials and AWS_ENDPOINT_URL as usual) through the same code as the s3 function.
    Replay(ReplayArgs),
    /// The Sigma rules evaluated at ingest: SigmaHQ's AWS CloudTrail and DNS rules, seclog's own, and yours.
    Rules {
        #[command(subcommand)]
        action: RulesAction,
    },
    /// The alerter: rule matches and bursts in the cluster become alerts, each raised once and sent once.
    Detect {
        #[command(subcommand)]
        action: DetectAction,
    },
    /// AWS's published address ranges (the `aws` enrichment).
    AwsRanges {
        #[command(subcommand)]
        action: AwsRangesAction,
    },
    /// OpenSearch Dashboards: an index pattern per family, on its time field.
    Dashboards {
        #[command(subcommand)]
        action: DashboardsAction,
    },
    /// Index templates.
    Templates {
        #[command(subcommand)]
        action: TemplatesAction,
    },
    /// Write a self-contained HTML security report (charts, a map of callers, tables) of a period.
    Report(ReportArgs),
    /// Start a local OpenSearch (osmem-server), replay every recorded log and answer the questions:
    /// when is our cloud busiest, where do calls come from, who failed to sign in, what WAF blocked.
    Demo {
        /// The fixtures folder.
        #[arg(long, default_value = "fixtures")]
        fixtures: PathBuf,
        /// Addresses or CIDR blocks console sign-ins are expected from.
        #[arg(long, value_delimiter = ',', default_value = "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16")]
        allowed: Vec<String>,
        /// Also write the answers as an HTML report (charts, a map of callers) to this file.
        #[arg(long)]
        report: Option<PathBuf>,
        #[command(flatten)]
        enrich: EnrichArgs,
    },
}

/// `seclog report`'s arguments.
#[derive(Args)]
#[allow(clippy::doc_markdown)] // clap's help text, shown to users as written
struct ReportArgs {
    /// The cluster.
    #[arg(long)]
    endpoint: String,
    /// The start of the period: a duration back from now (24h, 7d) or a date (2026-01-31, RFC 3339).
    #[arg(long)]
    since: Option<String>,
    /// The end of the period (a date); default: now.
    #[arg(long)]
    until: Option<String>,
    /// The file to write.
    #[arg(long, default_value = "report.html")]
    out: PathBuf,
    /// Addresses or CIDR blocks console sign-ins are expected from; sign-ins from elsewhere are listed.
    #[arg(long, value_delimiter = ',', env = "ALLOWED_CIDRS")]
    allowed: Vec<String>,
    #[command(flatten)]
    auth: AuthArgs,
}

/// `seclog replay`'s arguments.
#[derive(Args)]
#[allow(clippy::doc_markdown)] // clap's help text, shown to users as written
struct ReplayArgs {
    /// Event files or folders, or one s3://BUCKET[/PREFIX].
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// s3://: leave out objects last modified before this date (2026-01-31 or RFC 3339).
    #[arg(long, value_parser = parse_date)]
    since: Option<chrono::DateTime<chrono::Utc>>,
    /// s3://: leave out objects last modified at or after this date.
    #[arg(long, value_parser = parse_date)]
    until: Option<chrono::DateTime<chrono::Utc>>,
    /// s3://: objects read at once.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// s3://: a file of finished objects; a run with the same file skips them, so an
    /// interrupted backfill resumes where it stopped.
    #[arg(long)]
    state: Option<PathBuf>,
    /// Send to this cluster.
    #[arg(long, conflicts_with = "output", required_unless_present = "output")]
    endpoint: Option<String>,
    /// Write the bulk NDJSON that would be sent to FILE (- for standard output) instead.
    #[arg(long)]
    output: Option<PathBuf>,
    /// Treat every file as this source instead of detecting it.
    #[arg(long, value_enum)]
    source: Option<Source>,
    /// Time budget of each invocation, in seconds.
    #[arg(long, default_value_t = 60)]
    budget_secs: u64,
    /// The flow log's format string for VPC Flow Logs (`${version} ${vpc-id} …`); default: a
    /// `<name>.format` file beside each event, else the default format.
    #[arg(long)]
    vpc_flow_format: Option<String>,
    #[command(flatten)]
    enrich: EnrichArgs,
    #[command(flatten)]
    rules: RulesArgs,
    #[command(flatten)]
    auth: AuthArgs,
}

#[derive(Subcommand)]
#[allow(clippy::doc_markdown)] // clap's help text, shown to users as written
enum DetectAction {
    /// One run, as the scheduled function runs it: prints the alerts it raised and the messages it
    /// sent. Exits non-zero only when the cluster could not be queried.
    Run {
        /// The cluster.
        #[arg(long)]
        endpoint: String,
        /// The time of the run (RFC 3339); default: now.
        #[arg(long)]
        now: Option<String>,
        /// How far back it looks (30m, 2h, …).
        #[arg(long, default_value = "30m")]
        lookback: String,
        /// A Slack incoming webhook to send alerts to.
        #[arg(long, env = "SLACK_WEBHOOK_URL", hide_env_values = true)]
        slack_webhook: Option<String>,
        /// A URL that takes each alert as JSON.
        #[arg(long, env = "WEBHOOK_URL", hide_env_values = true)]
        webhook: Option<String>,
        /// Send alerts at or above this level.
        #[arg(long, default_value = "high")]
        notify_min_level: String,
        #[command(flatten)]
        rules: RulesArgs,
        #[command(flatten)]
        auth: AuthArgs,
    },
}

#[derive(Subcommand)]
#[allow(clippy::doc_markdown)] // clap's help text, shown to users as written
enum DashboardsAction {
    /// Create or update (idempotent) the index patterns: cloudtrail-*, waf-*, …, alerts and dead
    /// letters, each on @timestamp. For Amazon OpenSearch Service: --auth sigv4 (service es).
    Install {
        /// The Dashboards URL (https://DOMAIN/_dashboards on Amazon OpenSearch Service).
        #[arg(long)]
        dashboards: String,
        #[command(flatten)]
        auth: AuthArgs,
    },
}

#[derive(Subcommand)]
#[allow(clippy::doc_markdown)] // clap's help text, shown to users as written
enum RulesAction {
    /// Every rule: loaded (on which records, at which level) or skipped, and why.
    List {
        #[command(flatten)]
        rules: RulesArgs,
    },
    /// Which records of recorded events match which of your rules (the bundled ones are left out).
    Test {
        /// A rule file, or a folder of them.
        rules: PathBuf,
        /// Recorded events (as for `replay`): files or folders.
        #[arg(required = true)]
        events: Vec<PathBuf>,
        /// Addresses and CIDR ranges your people sign in from (fills %Legitimate_IP_Ranges%).
        #[arg(long, env = "ALLOWED_CIDRS")]
        allowed: Option<String>,
        #[command(flatten)]
        enrich: EnrichArgs,
    },
}

/// Which rules are evaluated at ingest.
#[derive(Args)]
#[allow(clippy::doc_markdown)] // clap's help text, shown to users as written
struct RulesArgs {
    /// A folder of your own Sigma rules (*.yml), loaded beside the bundled ones.
    #[arg(long = "rules", env = "DETECTION_RULES_DIR")]
    rules_dir: Option<PathBuf>,
    /// Addresses and CIDR ranges your people sign in from (fills %Legitimate_IP_Ranges%).
    #[arg(long, env = "ALLOWED_CIDRS")]
    allowed: Option<String>,
    /// ISO country codes your people sign in from (fills %Legitimate_Countries%).
    #[arg(long, env = "ALLOWED_COUNTRIES")]
    allowed_countries: Option<String>,
    /// `off` evaluates no rule.
    #[arg(long, default_value = "on")]
    detection: String,
}

impl RulesArgs {
    fn load(&self) -> Result<std::sync::Arc<seclog_rules::RuleSet>> {
        let mut vars: HashMap<&str, String> = HashMap::new();
        vars.insert("DETECTION", self.detection.clone());
        for (var, value) in [
            ("DETECTION_RULES_DIR", self.rules_dir.as_ref().map(|d| d.display().to_string())),
            ("ALLOWED_CIDRS", self.allowed.clone()),
            ("ALLOWED_COUNTRIES", self.allowed_countries.clone()),
        ] {
            if let Some(value) = value {
                vars.insert(var, value);
            }
        }
        let env = Env::from_lookup(|k| vars.get(k).cloned());
        let config = seclog_rules::RulesConfig::from_env(&env)?;
        Ok(std::sync::Arc::new(seclog_rules::RuleSet::load(&config)?))
    }
}

#[derive(Subcommand)]
enum AwsRangesAction {
    /// Fetch an `ip-ranges.json` from a URL or a file, check it, and write it where the functions
    /// read it (the enrichment layer's folder).
    Refresh {
        /// `https://…` or a file path.
        #[arg(long, default_value = "https://ip-ranges.amazonaws.com/ip-ranges.json")]
        from: String,
        /// Where to write it.
        #[arg(long, default_value = ".tools/geoip/aws-ip-ranges.json")]
        to: PathBuf,
    },
}

#[derive(Subcommand)]
enum TemplatesAction {
    /// Install (or update) every index template.
    Install {
        /// The cluster.
        #[arg(long)]
        endpoint: String,
        /// How free-form objects (CloudTrail request parameters, WAF rule-match details, Security
        /// Hub product fields) are mapped. Default: chosen from the version the cluster reports.
        #[arg(long, value_enum)]
        variant: Option<templates::Variant>,
        #[command(flatten)]
        auth: AuthArgs,
    },
}

/// Where the enrichment data is.
#[derive(Args)]
struct EnrichArgs {
    /// Folder of GeoIP, ASN and AWS-range data under their standard names (what `scripts/setup`
    /// writes), or `none` for no lookups.
    #[arg(long, default_value = ".tools/geoip")]
    enrich_data: String,
}

impl EnrichArgs {
    /// Opens the data; what is missing is said once, and replay goes on without it.
    fn open(&self) -> std::sync::Arc<seclog_enrich::Enricher> {
        let config = if self.enrich_data == "none" {
            seclog_enrich::EnrichmentConfig::default()
        } else {
            seclog_enrich::EnrichmentConfig::in_dir(std::path::Path::new(&self.enrich_data))
        };
        let enricher = seclog_enrich::Enricher::open(&config);
        for problem in enricher.problems() {
            eprintln!("warning: {problem}; documents are replayed without that enrichment");
        }
        std::sync::Arc::new(enricher)
    }
}

#[derive(Args)]
struct AuthArgs {
    /// How to authenticate: none, sigv4 (credentials from the AWS environment) or basic
    /// (`OPENSEARCH_USERNAME` / `OPENSEARCH_PASSWORD`).
    #[arg(long, default_value = "none")]
    auth: String,
    /// `SigV4` service: es or aoss.
    #[arg(long, default_value = "es")]
    service: String,
    /// `SigV4` region (default: `AWS_REGION`).
    #[arg(long)]
    region: Option<String>,
}

impl AuthArgs {
    /// The sink settings: these flags over the OPENSEARCH_* environment variables.
    fn config(&self, endpoint: &str) -> Result<OpenSearchConfig> {
        let mut over: HashMap<&str, String> = HashMap::new();
        over.insert("OPENSEARCH_ENDPOINT", endpoint.to_owned());
        over.insert("OPENSEARCH_AUTH", self.auth.clone());
        over.insert("OPENSEARCH_SERVICE", self.service.clone());
        if let Some(r) = &self.region {
            over.insert("OPENSEARCH_REGION", r.clone());
        }
        let env = Env::from_lookup(|k| over.get(k).cloned().or_else(|| std::env::var(k).ok()));
        Ok(OpenSearchConfig::from_env(&env)?)
    }
}

/// mimalloc: `seclog replay` is 9–14% faster with it (docs/benchmarks.md). The functions keep the
/// system allocator: mimalloc's peak is about 30 MiB higher, too much at 128 MB.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<()> {
    tracing_init();
    match Cli::parse().command {
        Command::Replay(args)
            if args.paths.first().and_then(|p| p.to_str()).is_some_and(|p| p.starts_with("s3://")) =>
        {
            replay_s3(args).await?;
        }
        Command::Replay(args) => replay_files(args).await?,
        Command::Rules { action: RulesAction::List { rules } } => {
            seclog_cli::rules::list(&*rules.load()?, &mut std::io::stdout())?;
        }
        Command::Rules { action: RulesAction::Test { rules, events, allowed, enrich } } => {
            let mut config =
                seclog_rules::RulesConfig { without_bundled: true, ..seclog_rules::RulesConfig::bundled() };
            config.allowed_cidrs =
                seclog_rules::config::parse_cidrs(allowed.as_deref().unwrap_or("")).map_err(anyhow::Error::msg)?;
            config.dir = Some(rules);
            let ruleset = std::sync::Arc::new(seclog_rules::RuleSet::load(&config)?);
            seclog_cli::rules::list(&ruleset, &mut std::io::stderr())?;
            let files = replay::discover(&events)?;
            let options = replay::Options { rules: ruleset.clone(), ..replay::Options::new(enrich.open()) };
            let deadletters = DeadLetters::default();
            let (_, sink) = replay::replay(&files, &options, MemorySink::new(), deadletters, |_, _, _| {}).await?;
            let hits = seclog_cli::rules::hits(&sink.take());
            seclog_cli::rules::print_hits(&ruleset, &files, &hits, &mut std::io::stdout())?;
        }
        Command::Detect {
            action: DetectAction::Run { endpoint, now, lookback, slack_webhook, webhook, notify_min_level, rules, auth },
        } => {
            let mut vars: HashMap<&str, String> = HashMap::new();
            vars.insert("LOOKBACK", lookback);
            vars.insert("NOTIFY_MIN_LEVEL", notify_min_level);
            for (var, value) in [("SLACK_WEBHOOK_URL", slack_webhook), ("WEBHOOK_URL", webhook)] {
                if let Some(value) = value {
                    vars.insert(var, value);
                }
            }
            let config = seclog_detect::config::DetectConfig::from_env(&Env::from_lookup(|k| vars.get(k).cloned()))?;
            let now = match now {
                Some(t) => chrono::DateTime::parse_from_rfc3339(&t)?.to_utc(),
                None => chrono::Utc::now(),
            };
            let report = seclog_cli::detect::run(auth.config(&endpoint)?, config, rules.load()?, now).await?;
            seclog_cli::detect::print(&report, &mut std::io::stdout())?;
        }
        Command::AwsRanges { action: AwsRangesAction::Refresh { from, to } } => {
            let ranges = seclog_cli::aws_ranges::refresh(&from, &to).await?;
            println!("wrote {} prefixes (createDate {}) to {}", ranges.prefixes, ranges.created, to.display());
        }
        Command::Dashboards { action: DashboardsAction::Install { dashboards, auth } } => {
            let client = Client::new(seclog_cli::dashboards::base(auth.config(&dashboards)?)).await?;
            for title in seclog_cli::dashboards::install(&client).await? {
                println!("index pattern {title} (time field @timestamp)");
            }
        }
        Command::Templates { action: TemplatesAction::Install { endpoint, variant, auth } } => {
            let client = Client::new(auth.config(&endpoint)?).await?;
            let installed = templates::install(&client, variant).await?;
            println!("cluster: {}; free-form objects: {}", installed.cluster, installed.variant.describe());
            for name in installed.names {
                println!("installed {name}");
            }
        }
        Command::Report(ReportArgs { endpoint, since, until, out, allowed, auth }) => {
            let scope = seclog_cli::questions::Scope::parse(since.as_deref(), until.as_deref(), chrono::Utc::now())?;
            let client = Client::new(auth.config(&endpoint)?).await?;
            let options =
                seclog_cli::report::Options { scope, allowed, cluster: seclog_cli::report::cluster_name(&endpoint) };
            seclog_cli::report::write(&client, &options, &out).await?;
            println!("wrote {}", out.display());
        }
        Command::Demo { fixtures, allowed, report, enrich } => {
            Box::pin(demo::run(&fixtures, &allowed, enrich.open(), report.as_deref(), &mut std::io::stdout())).await?;
        }
    }
    Ok(())
}

fn tracing_init() {
    use tracing_subscriber::EnvFilter;
    // A record the Firehose step fails, or an event the securityhub function dead-letters, is logged
    // at WARN (in Lambda that is where its reason goes); here the replay dead-letters it with its
    // reason, so the line would only repeat that.
    let filter = EnvFilter::try_from_env("SECLOG_LOG").unwrap_or_else(|_| {
        EnvFilter::new("warn,seclog_core::firehose=error,seclog_securityhub::handler=error,seclog_rules=error")
    });
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

/// `seclog replay s3://…`: the backfill.
async fn replay_s3(args: ReplayArgs) -> Result<()> {
    let ReplayArgs {
        paths, since, until, concurrency, state, endpoint, output, budget_secs, enrich, rules, auth, ..
    } = args;
    let [url] = paths.as_slice() else { bail!("an s3:// URL is replayed alone") };
    let target: seclog_cli::s3_replay::Target = url.to_string_lossy().parse()?;
    let options =
        seclog_cli::s3_replay::Options { since, until, concurrency, state, budget: Duration::from_secs(budget_secs) };
    let transforms = std::sync::Arc::new(seclog_s3::transform::Transforms::new(enrich.open(), rules.load()?));
    let report = if let Some(endpoint) = endpoint {
        let sink = OpenSearchSink::connect(auth.config(&endpoint)?).await?;
        let deadletters = sink.deadletters().clone();
        seclog_cli::s3_replay::run(&target, &options, (sink, deadletters, transforms)).await?
    } else {
        let sink = replay::output_sink(output.as_deref())?;
        let report = seclog_cli::s3_replay::run(&target, &options, (&sink, DeadLetters::default(), transforms)).await?;
        sink.finish().context("writing the output")?;
        report
    };
    summarise(&report, "some objects did not finish; run again (with the same --state) to read them")
}

/// `seclog replay FILES…`.
async fn replay_files(args: ReplayArgs) -> Result<()> {
    let ReplayArgs { paths, endpoint, output, source, budget_secs, vpc_flow_format, enrich, rules, auth, .. } = args;
    let files = replay::discover(&paths)?;
    let vpc_format =
        vpc_flow_format.map(|f| seclog_vpcflow::Format::parse(&f).map_err(anyhow::Error::from)).transpose()?;
    let options = replay::Options {
        source,
        vpc_format: vpc_format.as_ref(),
        budget: Duration::from_secs(budget_secs),
        rules: rules.load()?,
        ..replay::Options::new(enrich.open())
    };
    let mut last = std::time::Instant::now();
    let progress = move |done: usize, total: usize, records: usize| {
        if last.elapsed() >= Duration::from_secs(1) || done == total {
            eprint!("\rreplayed {done}/{total} files, {records} records");
            if done == total {
                eprintln!();
            }
            last = std::time::Instant::now();
        }
    };
    let report = if let Some(endpoint) = endpoint {
        let sink = OpenSearchSink::connect(auth.config(&endpoint)?).await?;
        let deadletters = sink.deadletters().clone();
        replay::replay(&files, &options, sink, deadletters, progress).await?.0
    } else {
        replay::replay_to_output(&files, &options, output.as_deref(), progress).await?
    };
    summarise(&report, "some invocations failed; Lambda would retry them")
}

/// Prints the per-source summary; an error saying `failed` when something must run again.
fn summarise(report: &replay::Report, failed: &str) -> Result<()> {
    report.print(&mut std::io::stderr())?;
    if report.failed() {
        bail!("{failed}");
    }
    Ok(())
}

/// `2026-01-31` (midnight UTC) or an RFC 3339 time.
fn parse_date(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    seclog_cli::questions::parse_date(s).map_err(|e| e.to_string())
}
