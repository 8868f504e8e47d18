//! `seclog`: replay recorded events, install index templates, run the demo.

use seclog_core::config::FromEnv;
use std::collections::HashMap;
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use clap::Parser;
use seclog_cli::client::Client;
use seclog_cli::replay;
use seclog_cli::{demo, templates};
use seclog_core::config::Env;
use seclog_core::deadletter::DeadLetters;
use seclog_core::sink::opensearch::OpenSearchSink;
use seclog_core::sink::MemorySink;

mod args;

use args::{
    AwsRangesAction, Cli, Command, DashboardsAction, DetectAction, ReplayArgs, ReportArgs, RulesAction, TemplatesAction,
};

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
