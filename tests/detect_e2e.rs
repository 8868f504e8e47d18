//! The alerter end to end: recorded CloudTrail events indexed by the cloudtrail handler into a
//! real osmem-server, then runs of the detect function with a local webhook receiver standing in
//! for Slack and a JSON webhook. Each alert is raised once and sent once per destination, whatever
//! is re-run, replayed or refused on the way.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use seclog_cli::client::Client;
use seclog_cli::receiver::{Answer, Receiver};
use seclog_cloudtrail::config::FunctionConfig;
use seclog_cloudtrail::handler::{process, Deps as IngestDeps};
use seclog_core::sink::opensearch::OpenSearchSink;
use seclog_detect::config::{Destinations, DetectConfig};
use seclog_detect::handler::{run, Deps, RunReport};
use seclog_detect::notify::Notifier;
use seclog_e2e::failed_sign_in;
use seclog_rules::config::parse_cidrs;
use seclog_rules::ids::{NEW_COUNTRY, NEW_NETWORK, SIGN_IN_FAILED_BURST as BURST, SIGN_IN_OUTSIDE_ALLOWED as OUTSIDE};
use seclog_rules::{RuleSet, RulesConfig};
use serde_json::{json, Value};
use tokio::time::Instant;

const STOP_LOGGING: &str = "4db60cc0-36fb-42b7-9b58-a5b53019fb74";

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

fn rules() -> Arc<RuleSet> {
    let config =
        RulesConfig { allowed_cidrs: parse_cidrs("10.0.0.0/8,192.168.0.0/16").unwrap(), ..RulesConfig::bundled() };
    Arc::new(RuleSet::load(&config).unwrap())
}

/// A cluster holding the recorded sign-ins, indexed now with the rules it returns.
async fn ingested() -> (seclog_cli::osmem::Server, Client, Arc<RuleSet>) {
    let (server, client) = seclog_e2e::server().await;
    let rules = rules();
    ingest_at(server.url(), &rules, &client, Utc::now).await;
    (server, client, rules)
}

/// Indexes the recorded sign-ins as the cloudtrail function does when its clock says `clock()`.
async fn ingest_at(url: &str, rules: &Arc<RuleSet>, client: &Client, clock: fn() -> DateTime<Utc>) {
    let sink = OpenSearchSink::with_signer(seclog_e2e::fast_config(url), None).unwrap();
    let dl = sink.deadletters().clone();
    let mut deps = IngestDeps::new(sink, dl, FunctionConfig::default())
        .map_transformer(|t| t.with_enricher(seclog_testkit::enricher()).with_rules(rules.clone()));
    deps.clock = clock;
    let summary = process(&seclog_e2e::event("synthetic-sign-ins"), &deps, Instant::now() + Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(summary.received, 10);
    client.refresh().await.unwrap();
}

async fn alerter(url: &str, rules: Arc<RuleSet>, destinations: Destinations) -> Deps<OpenSearchSink> {
    let opensearch = seclog_e2e::fast_config(url);
    Deps {
        sink: OpenSearchSink::with_signer(opensearch.clone(), None).unwrap(),
        client: Client::new(opensearch).await.unwrap(),
        rules,
        config: DetectConfig { destinations, ..DetectConfig::default() },
        notifier: Notifier::new(Duration::from_millis(500)).unwrap(),
    }
}

async fn run_at(deps: &Deps<OpenSearchSink>, now: &str) -> RunReport {
    run(deps, at(now), Instant::now() + Duration::from_secs(60)).await.unwrap()
}

async fn alerts(client: &Client) -> Vec<Value> {
    client.refresh().await.unwrap();
    let answer =
        client.search("seclog-alerts-*", &json!({"size": 100, "sort": [{"@timestamp": "asc"}]})).await.unwrap();
    answer["hits"]["hits"].as_array().unwrap().iter().map(|h| h["_source"].clone()).collect()
}

#[tokio::test]
async fn each_alert_is_raised_once_and_sent_once_through_refusals_reruns_and_a_replay() {
    let (server, client, rules) = ingested().await;
    // Slack refuses the first post (500), then rate-limits the second (429 with Retry-After).
    let receiver = Receiver::start([Answer::Status(500), Answer::Status(429)]).await.unwrap();
    let destinations = Destinations {
        slack: Some(receiver.url("slack").parse().unwrap()),
        webhook: Some(receiver.url("hook").parse().unwrap()),
        ..Destinations::default()
    };
    let deps = alerter(server.url(), rules.clone(), destinations).await;

    let first = run_at(&deps, "2026-11-30T21:30:00Z").await;
    // Six failed sign-ins (SigmaHQ's failed-authentication rule, medium), the sign-in without MFA
    // and StopLogging (medium), the sign-in from outside the allowed ranges (high), the burst of
    // failures (high), the country and the network alice never used in the 30 days before (high).
    // The failed-sign-in rule seclog's burst counts raises nothing alone.
    let mut raised: Vec<(String, String)> =
        first.raised.iter().map(|r| (r.level.to_string(), r.rule.clone())).collect();
    raised.sort();
    assert_eq!(
        raised,
        [
            ("high", "AWS API Call From a Network New for the Principal"),
            ("high", "AWS Console Sign-In Brute-Force Burst"),
            ("high", "AWS Console Sign-In From Outside the Allowed Addresses"),
            ("high", "AWS Console Sign-In From a Country New for the User"),
            ("medium", "AWS CloudTrail Important Change"),
            ("medium", "AWS ConsoleLogin Failed Authentication"),
            ("medium", "AWS ConsoleLogin Failed Authentication"),
            ("medium", "AWS ConsoleLogin Failed Authentication"),
            ("medium", "AWS ConsoleLogin Failed Authentication"),
            ("medium", "AWS ConsoleLogin Failed Authentication"),
            ("medium", "AWS ConsoleLogin Failed Authentication"),
            ("medium", "AWS Successful Console Login Without MFA"),
        ]
        .map(|(l, r)| (l.to_owned(), r.to_owned()))
    );
    // The two oldest high alerts were refused; the two after them reached both destinations.
    assert_eq!(first.sent.len(), 4, "{first:?}");
    assert_eq!(first.send_failures.len(), 2);
    assert!(first.send_failures[1].contains("429") && first.send_failures[1].contains("Retry-After 30"), "{first:?}");

    // The same window again: nothing new is raised, and what was refused is sent now.
    let second = run_at(&deps, "2026-11-30T21:30:00Z").await;
    assert!(second.raised.is_empty());
    // The eleven other alerts are found again; the burst is not even recounted, its span covers its matches.
    assert_eq!(second.already_raised, 11);
    assert_eq!(second.sent.len(), 4, "the two refused alerts, two destinations: {second:?}");

    // The next scheduled run overlaps: nothing raised, nothing sent.
    let third = run_at(&deps, "2026-11-30T21:35:00Z").await;
    assert!(third.raised.is_empty() && third.sent.is_empty(), "{third:?}");

    // Replaying the same events (a redelivery) raises and sends nothing either.
    ingest_at(server.url(), &rules, &client, Utc::now).await;
    let fourth = run_at(&deps, "2026-11-30T21:30:00Z").await;
    assert!(fourth.raised.is_empty() && fourth.sent.is_empty(), "{fourth:?}");

    // What the receiver got: each high alert once per destination.
    let got = receiver.received();
    let hooks: Vec<&Value> = got.iter().filter(|(p, _)| p == "/hook").map(|(_, v)| v).collect();
    let slack: Vec<&Value> = got.iter().filter(|(p, _)| p == "/slack").map(|(_, v)| v).collect();
    assert_eq!((slack.len(), hooks.len(), receiver.refused()), (4, 4, 2));
    let mut rule_ids: Vec<&str> = hooks.iter().map(|h| h["alert"]["rule"]["id"].as_str().unwrap()).collect();
    rule_ids.sort_unstable();
    assert_eq!(rule_ids, [BURST, NEW_COUNTRY, NEW_NETWORK, OUTSIDE]);
    let headers: Vec<&str> = slack.iter().map(|m| m["blocks"][0]["text"]["text"].as_str().unwrap()).collect();
    assert!(headers.contains(&"[high] AWS Console Sign-In Brute-Force Burst"), "{headers:?}");

    // The alert documents: who, from where, when, the rule's author, and where they were sent.
    let docs = alerts(&client).await;
    assert_eq!(docs.len(), 12);
    let burst = docs.iter().find(|d| d["rule"]["id"] == BURST).unwrap();
    assert_eq!(burst["@timestamp"], "2026-11-30T21:00:05.000Z");
    assert_eq!(burst["alert"]["kind"], "threshold");
    assert_eq!(burst["alert"]["count"], 6);
    assert_eq!(burst["alert"]["group"], "185.220.101.7");
    assert_eq!(burst["source"]["ip"], "185.220.101.7");
    assert_eq!(burst["user"]["name"], "alice");
    assert_eq!(burst["cloud"]["account"]["id"], "111122223333");
    assert_eq!(burst["rule"]["author"], "seclog");
    assert_eq!(burst["alert"]["notified_to"], json!(["slack", "webhook"]));
    assert!(burst["alert"]["notified_at"].is_string());
    let outside = docs.iter().find(|d| d["rule"]["id"] == OUTSIDE).unwrap();
    assert_eq!(outside["rule"]["author"], "Ivan Saakov (AWS Console Login Monitoring), seclog (CIDR form)");
    assert_eq!(outside["alert"]["event_ids"], json!(["5e7c1a00-0000-4000-8000-000000000006"]));
    let country = docs.iter().find(|d| d["rule"]["id"] == NEW_COUNTRY).unwrap();
    assert_eq!(country["alert"]["kind"], "first_seen");
    assert_eq!(country["alert"]["group"], "alice / DE");
    assert_eq!(country["source"]["geo"]["country_iso_code"], "DE");
    let medium_sent =
        docs.iter().filter(|d| d["rule"]["level"] == "medium" && d["alert"]["notified_at"].is_string()).count();
    assert_eq!(medium_sent, 0, "NOTIFY_MIN_LEVEL is high");
}

/// The recorded sign-ins happened around 21:00; CloudTrail delivered them two hours late.
fn two_hours_late() -> DateTime<Utc> {
    at("2026-11-30T23:00:00Z")
}

#[tokio::test]
async fn events_delivered_hours_after_they_happened_raise_their_alerts_in_the_run_after_delivery() {
    let (server, client) = seclog_e2e::server().await;
    let rules = rules();
    let deps = alerter(server.url(), rules.clone(), Destinations::default()).await;
    ingest_at(server.url(), &rules, &client, two_hours_late).await;

    // The window (22:35–23:05) holds none of the events' own times, but holds their delivery.
    let late = run_at(&deps, "2026-11-30T23:05:00Z").await;
    let mut raised: Vec<&str> =
        late.raised.iter().filter(|r| r.level.to_string() == "high").map(|r| r.rule.as_str()).collect();
    raised.sort_unstable();
    assert_eq!(
        raised,
        [
            "AWS API Call From a Network New for the Principal",
            "AWS Console Sign-In Brute-Force Burst",
            "AWS Console Sign-In From Outside the Allowed Addresses",
            // alice's sign-in from home on the 20th was delivered in the same late batch.
            "AWS Console Sign-In From Outside the Allowed Addresses",
            "AWS Console Sign-In From a Country New for the User",
        ]
    );
    // The twelve of a timely delivery (see the first test), and that sign-in from the 20th.
    assert_eq!(late.raised.len(), 13, "{late:?}");
    // Compared with alice's 30 days before the sign-in, not with what was delivered with it.
    let docs = alerts(&client).await;
    let country = docs.iter().find(|d| d["rule"]["id"] == NEW_COUNTRY).unwrap();
    assert_eq!(country["alert"]["group"], "alice / DE");
    let burst = docs.iter().find(|d| d["rule"]["id"] == BURST).unwrap();
    assert_eq!(
        (burst["@timestamp"].as_str(), burst["alert"]["count"].as_u64()),
        (Some("2026-11-30T21:00:05.000Z"), Some(6))
    );

    // The next run overlaps the delivery: nothing new.
    let next = run_at(&deps, "2026-11-30T23:10:00Z").await;
    assert!(next.raised.is_empty(), "{next:?}");
}

#[tokio::test]
async fn an_unreachable_cluster_fails_the_run_and_marks_nothing() {
    let (server, _, rules) = ingested().await;
    let receiver = Receiver::start([]).await.unwrap();
    let destinations =
        Destinations { slack: None, webhook: Some(receiver.url("hook").parse().unwrap()), ..Destinations::default() };
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let down = alerter(&format!("http://{closed}"), rules.clone(), destinations.clone()).await;
    let err = run(&down, at("2026-11-30T21:30:00Z"), Instant::now() + Duration::from_secs(10)).await.unwrap_err();
    let err = seclog_core::error::Chain(&err).to_string();
    assert!(err.starts_with("OpenSearch could not be searched or updated: "), "{err}");
    assert!(receiver.received().is_empty());
    // The next run, with the cluster back, catches up.
    let up = alerter(server.url(), rules, destinations).await;
    let report = run_at(&up, "2026-11-30T21:32:00Z").await;
    // Its window starts at 21:02: the two earliest failures fall out of it, the burst does not.
    assert_eq!((report.raised.len(), report.sent.len()), (10, 4));
    assert_eq!(receiver.received().len(), 4);
}

#[tokio::test]
async fn a_destination_that_does_not_answer_in_time_is_retried_by_the_next_run() {
    let (server, _, rules) = ingested().await;
    let receiver = Receiver::start([Answer::Silence(Duration::from_secs(2))]).await.unwrap();
    let destinations = Destinations { slack: Some(receiver.url("slack").parse().unwrap()), ..Destinations::default() };
    let deps = alerter(server.url(), rules, destinations).await;
    let first = run_at(&deps, "2026-11-30T21:30:00Z").await;
    assert_eq!((first.sent.len(), first.send_failures.len()), (3, 1), "{first:?}");
    assert!(first.send_failures[0].contains("could not be reached"), "{first:?}");
    assert!(!first.send_failures[0].contains("127.0.0.1"), "no URL in errors: {first:?}");
    let second = run_at(&deps, "2026-11-30T21:31:00Z").await;
    assert_eq!(second.sent.len(), 1);
    let third = run_at(&deps, "2026-11-30T21:32:00Z").await;
    assert!(third.sent.is_empty());
    assert_eq!(receiver.received().len(), 4);
}

#[tokio::test]
async fn the_demo_raises_the_recorded_burst_and_a_second_run_raises_and_sends_nothing() {
    let mut out = Vec::new();
    let allowed = ["10.0.0.0/8".to_owned(), "172.16.0.0/12".to_owned(), "192.168.0.0/16".to_owned()];
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("demo/report.html");
    Box::pin(seclog_cli::demo::run(
        &seclog_testkit::workspace_root().join("fixtures"),
        &allowed,
        seclog_testkit::enricher(),
        Some(&report),
        &mut out,
    ))
    .await
    .unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(out.ends_with(&format!("to open in a browser: {}\n", report.display())), "the demo ends with the report");
    let page = std::fs::read_to_string(&report).unwrap();
    assert_eq!(page.matches("<section ").count(), 9);
    assert!(page.contains("<td>*-alerts-*</td><td class=\"n\">12</td>"), "the alerts of the run are in the report");
    let balancer = &out[out.find("17. Load balancer").unwrap()..out.find("18. Alerts").unwrap()];
    assert!(balancer.contains("   10.0.1.16:8080             3  81.2.69.160 2, 216.160.83.56 1\n"), "{balancer}");
    assert!(balancer.contains("   10.0.1.15:8080             1  175.16.199.1 1\n"), "{balancer}");
    let alerts = &out[out.find("18. Alerts").expect("the demo has an alerts section")..];
    let (first, second) = alerts.split_once("The same run again").unwrap();
    assert_eq!(first.matches("   raised [").count(), 12, "{first}");
    assert!(first.contains("raised [high] AWS Console Sign-In Brute-Force Burst: 6 matches within 10 minutes for 185.220.101.7, the first ConsoleLogin by alice from 185.220.101.7 (DE, AS60729)"), "{first}");
    assert!(
        first.contains("raised [high] AWS Console Sign-In From a Country New for the User: alice from country DE"),
        "{first}"
    );
    assert!(first.contains("Slack got 4 messages:"), "{first}");
    assert!(
        second.contains("no new alert (11 found again, already raised)") && second.contains("nothing sent"),
        "{second}"
    );
    assert!(second.contains("Slack got 4 messages in all."), "{second}");
}

#[tokio::test]
async fn detect_run_prints_what_it_raised_and_sent() {
    let (server, _, rules) = ingested().await;
    let receiver = Receiver::start([]).await.unwrap();
    let config = DetectConfig {
        destinations: Destinations { webhook: Some(receiver.url("hook").parse().unwrap()), ..Destinations::default() },
        ..DetectConfig::default()
    };
    let now = at("2026-11-30T21:30:00Z");
    let report = seclog_cli::detect::run(seclog_e2e::fast_config(server.url()), config, rules, now).await.unwrap();
    let mut out = Vec::new();
    seclog_cli::detect::print(&report, &mut out).unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(out.starts_with("   window 2026-11-30T21:00:00Z to 2026-11-30T21:30:00Z (event time)\n"), "{out}");
    assert_eq!(out.matches("sent alert ").count(), 4, "{out}");
    assert_eq!(receiver.received().len(), 4);
}

#[tokio::test]
async fn the_slack_url_comes_from_its_secret_and_alerts_reach_an_sns_topic_once() {
    let moto = seclog_testkit::moto::Moto::start();
    let sdk = seclog_e2e::moto_sdk(moto.url()).await;
    let (server, _, rules) = ingested().await;
    let receiver = Receiver::start([]).await.unwrap();

    // The secret as the CDK app leaves it (empty), then holding the URL as JSON.
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
    let empty = secrets.create_secret().name("seclog/slack-empty").secret_string(" ").send().await.unwrap();
    assert_eq!(seclog_detect::handler::slack_from_secret(&secrets, empty.arn().unwrap()).await.unwrap(), None);
    let held = json!({"url": receiver.url("slack")}).to_string();
    let secret = secrets.create_secret().name("seclog/slack").secret_string(held).send().await.unwrap();
    let slack = seclog_detect::handler::slack_from_secret(&secrets, secret.arn().unwrap()).await.unwrap();
    let bad =
        secrets.create_secret().name("seclog/slack-bad").secret_string("not a url SECRETTOKEN").send().await.unwrap();
    let err = seclog_detect::handler::slack_from_secret(&secrets, bad.arn().unwrap()).await.unwrap_err();
    let said = seclog_core::error::Chain(&err).to_string();
    assert!(matches!(err, seclog_detect::handler::InitError::SecretNotAWebhook(_)), "{said}");
    assert!(!said.contains("SECRETTOKEN"), "{said}");

    // An SNS topic with a queue subscribed, to read what it got.
    let sns = aws_sdk_sns::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let topic = sns.create_topic().name("seclog-alerts").send().await.unwrap().topic_arn().unwrap().to_owned();
    let queue = sqs.create_queue().queue_name("alerts-copy").send().await.unwrap().queue_url().unwrap().to_owned();
    let queue_arn = "arn:aws:sqs:us-east-1:123456789012:alerts-copy";
    sns.subscribe().topic_arn(&topic).protocol("sqs").endpoint(queue_arn).send().await.unwrap();

    let mut deps = alerter(
        server.url(),
        rules,
        Destinations { slack, sns_topic_arn: Some(topic.clone()), ..Destinations::default() },
    )
    .await;
    deps.notifier = deps.notifier.with_sns(sns);
    let first = run_at(&deps, "2026-11-30T21:30:00Z").await;
    assert_eq!((first.sent.len(), first.send_failures.len()), (8, 0), "four high alerts, two destinations: {first:?}");
    let again = run_at(&deps, "2026-11-30T21:35:00Z").await;
    assert!(again.sent.is_empty());

    assert_eq!(receiver.received().len(), 4);
    let mut subjects = Vec::new();
    loop {
        let got = sqs.receive_message().queue_url(&queue).max_number_of_messages(10).send().await.unwrap();
        let messages = got.messages();
        if messages.is_empty() {
            break;
        }
        for m in messages {
            let envelope: Value = serde_json::from_str(m.body().unwrap()).unwrap();
            subjects.push(envelope["Subject"].as_str().unwrap().to_owned());
            assert!(envelope["Message"].as_str().unwrap().contains("\nwho: alice\n"), "{envelope}");
            sqs.delete_message().queue_url(&queue).receipt_handle(m.receipt_handle().unwrap()).send().await.unwrap();
        }
    }
    subjects.sort();
    assert_eq!(
        subjects,
        [
            "[high] AWS API Call From a Network New for the Principal",
            "[high] AWS Console Sign-In Brute-Force Burst",
            "[high] AWS Console Sign-In From Outside the Allowed Addresses",
            "[high] AWS Console Sign-In From a Country New for the User",
        ]
    );
}

#[tokio::test]
async fn a_burst_in_the_window_is_found_behind_thousands_of_older_matches_and_a_late_delivery() {
    use seclog_core::sink::BulkSink;
    let (server, client) = seclog_e2e::server().await;
    // Five thousand failed sign-ins over the days before, each from its own address: no burst.
    let mut docs: Vec<_> = (0..5_000)
        .map(|i| {
            let at = (at("2026-11-25T00:00:00Z") + chrono::Duration::minutes(i)).to_rfc3339();
            failed_sign_in(format!("old-{i}"), &at, &format!("198.18.{}.{}", i / 250, i % 250), &at)
        })
        .collect();
    // One from six days ago, read only in this run's window (a late delivery)…
    docs.push(failed_sign_in("late".into(), "2026-11-24T12:00:00Z", "198.19.0.1", "2026-11-30T21:25:00Z"));
    // …and six from one address in the window: a brute-force burst.
    for i in 0..6 {
        let at = format!("2026-11-30T21:20:{:02}Z", i * 10);
        docs.push(failed_sign_in(format!("burst-{i}"), &at, "203.0.113.7", &at));
    }
    let sink = OpenSearchSink::with_signer(seclog_e2e::fast_config(server.url()), None).unwrap();
    assert_eq!(sink.deliver(docs, Instant::now() + Duration::from_secs(120)).await.unwrap().indexed, 5_007);
    client.refresh().await.unwrap();

    let deps = alerter(server.url(), rules(), Destinations::default()).await;
    let run = run_at(&deps, "2026-11-30T21:30:00Z").await;
    let bursts: Vec<_> = alerts(&client).await.into_iter().filter(|a| a["rule"]["id"] == BURST).collect();
    assert_eq!(bursts.len(), 1, "{run:?}");
    assert_eq!(
        (bursts[0]["source"]["ip"].as_str(), bursts[0]["alert"]["count"].as_u64()),
        (Some("203.0.113.7"), Some(6))
    );
}

#[tokio::test]
async fn ten_thousand_matches_in_one_window_raise_a_bounded_number_of_alerts_and_one_summary() {
    use seclog_core::document::{Document, Origin, WriteOp};
    use seclog_core::sink::BulkSink;
    let (server, client) = seclog_e2e::server().await;
    // Ten thousand StopLogging calls within ten minutes, as the cloudtrail function marks them.
    let docs: Vec<Document<'_>> = (0..10_000)
        .map(|i| {
            let body = json!({"@timestamp": format!("2026-11-30T21:{:02}:{:02}.{:03}Z", 10 + i / 1000, (i / 17) % 60, i % 1000),
                "event": {"action": "StopLogging"}, "eventName": "StopLogging", "sourceIPAddress": "198.51.100.9",
                "detection": {"rule_ids": [STOP_LOGGING], "level": "medium"}});
            let origin = Origin { dataset: "aws.cloudtrail", record_id: i.to_string().into(), raw: "".into() };
            Document::new("cloudtrail-2026.11.30".into(), format!("flood-{i:05}"), WriteOp::Create, body.to_string().into_bytes(), origin)
        })
        .collect();
    let sink = OpenSearchSink::with_signer(seclog_e2e::fast_config(server.url()), None).unwrap();
    let delivered = sink.deliver(docs, Instant::now() + Duration::from_secs(120)).await.unwrap();
    assert_eq!(delivered.indexed, 10_000);
    client.refresh().await.unwrap();

    let deps = alerter(server.url(), rules(), Destinations::default()).await;
    let started = std::time::Instant::now();
    let first = run_at(&deps, "2026-11-30T21:30:00Z").await;
    let per_rule = deps.config.max_alerts_per_rule;
    assert_eq!(first.raised.len(), per_rule + 1, "{} alerts", first.raised.len());
    let summary = first.raised.iter().find(|r| r.message.contains("10000 matches")).expect("one summary alert");
    assert!(summary.message.contains("alerts were raised for the first 100"), "{}", summary.message);
    assert!(started.elapsed() < Duration::from_secs(30), "{:?}", started.elapsed());
    // The same window again: the same alerts, nothing new.
    let again = run_at(&deps, "2026-11-30T21:30:00Z").await;
    assert_eq!((again.raised.len(), again.already_raised), (0, per_rule + 1));
}

#[tokio::test]
async fn a_cluster_answering_503_fails_the_run_sends_nothing_and_the_next_run_catches_up() {
    use seclog_testkit::proxy::{Fault, FaultProxy};
    let (server, client, rules) = ingested().await;
    let receiver = Receiver::start([]).await.unwrap();
    let proxy = FaultProxy::start(server.url(), [Fault::Status(503)]).await;
    let destinations = Destinations { webhook: Some(receiver.url("hook").parse().unwrap()), ..Destinations::default() };
    let deps = alerter(&proxy.url(), rules, destinations).await;
    let err = run(&deps, at("2026-11-30T21:30:00Z"), Instant::now() + Duration::from_secs(10)).await.unwrap_err();
    let err = seclog_core::error::Chain(&err).to_string();
    assert!(err.contains("503"), "{err}");
    assert!(receiver.received().is_empty());
    assert!(alerts(&client).await.is_empty(), "nothing raised");
    // A minute later: the window starts at 21:01, so the first failed sign-in is out of it.
    let next = run_at(&deps, "2026-11-30T21:31:00Z").await;
    assert_eq!((next.raised.len(), next.sent.len()), (11, 4));
}
