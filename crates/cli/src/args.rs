//! The command line: what `seclog --help` shows (clap's help text is written for our users, so
//! `clippy::doc_markdown` does not apply here).
#![allow(clippy::doc_markdown)]

use seclog_core::config::FromEnv;
use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use seclog_cli::replay::Source;
use seclog_cli::templates;
use seclog_core::config::Env;
use seclog_core::sink::opensearch::config::OpenSearchConfig;

#[derive(Parser)]
#[command(name = "seclog", version, about = "AWS security logs into OpenSearch: replay, templates, demo")]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
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
pub(crate) struct ReportArgs {
    /// The cluster.
    #[arg(long)]
    pub(crate) endpoint: String,
    /// The start of the period: a duration back from now (24h, 7d) or a date (2026-01-31, RFC 3339).
    #[arg(long)]
    pub(crate) since: Option<String>,
    /// The end of the period (a date); default: now.
    #[arg(long)]
    pub(crate) until: Option<String>,
    /// The file to write.
    #[arg(long, default_value = "report.html")]
    pub(crate) out: PathBuf,
    /// Addresses or CIDR blocks console sign-ins are expected from; sign-ins from elsewhere are listed.
    #[arg(long, value_delimiter = ',', env = "ALLOWED_CIDRS")]
    pub(crate) allowed: Vec<String>,
    #[command(flatten)]
    pub(crate) auth: AuthArgs,
}

/// `seclog replay`'s arguments.
#[derive(Args)]
pub(crate) struct ReplayArgs {
    /// Event files or folders, or one s3://BUCKET[/PREFIX].
    #[arg(required = true)]
    pub(crate) paths: Vec<PathBuf>,
    /// s3://: leave out objects last modified before this date (2026-01-31 or RFC 3339).
    #[arg(long, value_parser = parse_date)]
    pub(crate) since: Option<chrono::DateTime<chrono::Utc>>,
    /// s3://: leave out objects last modified at or after this date.
    #[arg(long, value_parser = parse_date)]
    pub(crate) until: Option<chrono::DateTime<chrono::Utc>>,
    /// s3://: objects read at once.
    #[arg(long, default_value_t = 4)]
    pub(crate) concurrency: usize,
    /// s3://: a file of finished objects; a run with the same file skips them, so an
    /// interrupted backfill resumes where it stopped.
    #[arg(long)]
    pub(crate) state: Option<PathBuf>,
    /// Send to this cluster.
    #[arg(long, conflicts_with = "output", required_unless_present = "output")]
    pub(crate) endpoint: Option<String>,
    /// Write the bulk NDJSON that would be sent to FILE (- for standard output) instead.
    #[arg(long)]
    pub(crate) output: Option<PathBuf>,
    /// Treat every file as this source instead of detecting it.
    #[arg(long, value_enum)]
    pub(crate) source: Option<Source>,
    /// Time budget of each invocation, in seconds.
    #[arg(long, default_value_t = 60)]
    pub(crate) budget_secs: u64,
    /// The flow log's format string for VPC Flow Logs (`${version} ${vpc-id} …`); default: a
    /// `<name>.format` file beside each event, else the default format.
    #[arg(long)]
    pub(crate) vpc_flow_format: Option<String>,
    #[command(flatten)]
    pub(crate) enrich: EnrichArgs,
    #[command(flatten)]
    pub(crate) rules: RulesArgs,
    #[command(flatten)]
    pub(crate) auth: AuthArgs,
}

#[derive(Subcommand)]
pub(crate) enum RulesAction {
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
#[derive(Subcommand)]
pub(crate) enum DetectAction {
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
pub(crate) enum DashboardsAction {
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

#[derive(Args)]
pub(crate) struct RulesArgs {
    /// A folder of your own Sigma rules (*.yml), loaded beside the bundled ones.
    #[arg(long = "rules", env = "DETECTION_RULES_DIR")]
    pub(crate) rules_dir: Option<PathBuf>,
    /// Addresses and CIDR ranges your people sign in from (fills %Legitimate_IP_Ranges%).
    #[arg(long, env = "ALLOWED_CIDRS")]
    pub(crate) allowed: Option<String>,
    /// ISO country codes your people sign in from (fills %Legitimate_Countries%).
    #[arg(long, env = "ALLOWED_COUNTRIES")]
    pub(crate) allowed_countries: Option<String>,
    /// `off` evaluates no rule.
    #[arg(long, default_value = "on")]
    pub(crate) detection: String,
}

impl RulesArgs {
    pub(crate) fn load(&self) -> Result<std::sync::Arc<seclog_rules::RuleSet>> {
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
pub(crate) enum AwsRangesAction {
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
pub(crate) enum TemplatesAction {
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
pub(crate) struct EnrichArgs {
    /// Folder of GeoIP, ASN and AWS-range data under their standard names (what `scripts/setup`
    /// writes), or `none` for no lookups.
    #[arg(long, default_value = ".tools/geoip")]
    pub(crate) enrich_data: String,
}

impl EnrichArgs {
    /// Opens the data; what is missing is said once, and replay goes on without it.
    pub(crate) fn open(&self) -> std::sync::Arc<seclog_enrich::Enricher> {
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
pub(crate) struct AuthArgs {
    /// How to authenticate: none, sigv4 (credentials from the AWS environment) or basic
    /// (`OPENSEARCH_USERNAME` / `OPENSEARCH_PASSWORD`).
    #[arg(long, default_value = "none")]
    pub(crate) auth: String,
    /// `SigV4` service: es or aoss.
    #[arg(long, default_value = "es")]
    pub(crate) service: String,
    /// `SigV4` region (default: `AWS_REGION`).
    #[arg(long)]
    pub(crate) region: Option<String>,
}

impl AuthArgs {
    /// The sink settings: these flags over the OPENSEARCH_* environment variables.
    pub(crate) fn config(&self, endpoint: &str) -> Result<OpenSearchConfig> {
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

/// `2026-01-31` (midnight UTC) or an RFC 3339 time.
fn parse_date(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    seclog_cli::questions::parse_date(s).map_err(|e| e.to_string())
}
