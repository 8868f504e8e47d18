//! The function binaries themselves, run as Lambda runs them (cargo-lambda's runtime
//! emulator, see `seclog_testkit::emulator`): each starts from its environment alone, survives an
//! event of the wrong shape (the invocation fails, the process keeps serving), then answers a
//! recorded event exactly as its golden files say — the Firehose response byte for byte, the
//! `_bulk` functions' documents and dead letters in a real `osmem-server` — and prints its summary
//! line.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::Path;

use seclog_e2e::server;
use seclog_testkit::emulator::{binary, environment, Emulator, Instance};
use seclog_testkit::{fixtures, sibling};
use serde_json::Value;

/// The distinct `index/id` pairs of a bulk golden, split into documents and dead letters.
fn golden_bulk(path: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut docs, mut dead) = (BTreeSet::new(), BTreeSet::new());
    let text = std::fs::read_to_string(path).unwrap();
    for action in text.lines().step_by(2) {
        let action: Value = serde_json::from_str(action).unwrap();
        let meta = action.as_object().unwrap().values().next().unwrap();
        let (index, id) = (meta["_index"].as_str().unwrap(), meta["_id"].as_str().unwrap());
        let set = if index.contains("-deadletter-") { &mut dead } else { &mut docs };
        set.insert(format!("{index}/{id}"));
    }
    (docs, dead)
}

/// The `index/id` pairs `osmem` holds in `indices`.
async fn held(client: &seclog_cli::client::Client, indices: &str) -> BTreeSet<String> {
    let body = serde_json::json!({"size": 10_000, "_source": false, "query": {"match_all": {}}});
    let hits = client.search(indices, &body).await.unwrap();
    hits["hits"]["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| format!("{}/{}", h["_index"].as_str().unwrap(), h["_id"].as_str().unwrap()))
        .collect()
}

/// The ids of `index/id` pairs.
fn ids(pairs: &BTreeSet<String>) -> BTreeSet<&str> {
    pairs.iter().map(|p| p.rsplit('/').next().unwrap()).collect()
}

/// The summary lines (EMF) a function printed, in order.
fn summaries(stdout: &str) -> Vec<Value> {
    stdout.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()).filter(|v| v.get("_aws").is_some()).collect()
}

/// What an invocation must have done.
enum Expect {
    /// The Firehose response equals `<case>.expected.json`.
    Response,
    /// The server holds exactly the documents and dead letters of `<case>.expected.ndjson`.
    Indexed,
}

/// The function `name` on fixture `source/case`, after an event of the wrong shape.
async fn serves(
    emulator: &Emulator,
    client: &seclog_cli::client::Client,
    env: &[(&str, String)],
    (name, source, case, expect): (&str, &str, &str, Expect),
) {
    let mut instance = Instance::start(emulator, &binary("debug", name).unwrap(), env).await.unwrap();
    assert!(instance.init.as_secs() < 10, "{name} took {:?} to start", instance.init);

    // `securityhub` takes any JSON (EventBridge sends many shapes): an event without findings is
    // one dead letter. The others' runtime refuses to call the handler: the invocation fails.
    let (status, body) = emulator.invoke(br#"{"records": 5, "awslogs": 5, "detail": 5}"#).await.unwrap();
    let handled = if name == "securityhub" {
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        client.refresh().await.unwrap();
        assert_eq!(held(client, "*-deadletter-*").await.len(), 1, "{name}: the wrong shape is one dead letter");
        client.call("DELETE", "/*-deadletter-*", None).await.unwrap();
        2
    } else {
        assert_ne!(status, 200, "{name} accepted an event of the wrong shape: {}", String::from_utf8_lossy(&body));
        1
    };
    assert!(instance.is_running(), "{name} exited on an event of the wrong shape");

    let input = fixtures(source).join(format!("{case}.input.json"));
    let event = std::fs::read(&input).unwrap();
    let (status, body) = emulator.invoke(&event).await.unwrap();
    assert_eq!(status, 200, "{name} on {case}: {}", String::from_utf8_lossy(&body));
    let received = match expect {
        Expect::Response => {
            let golden: Value = seclog_testkit::golden::load(&sibling(&input, ".expected.json"));
            let response: Value = serde_json::from_slice(&body).unwrap();
            assert!(response == golden, "{name} on {case}: the response differs from its golden file");
            golden["records"].as_array().unwrap().len()
        }
        Expect::Indexed => {
            let (docs, dead) = golden_bulk(&sibling(&input, ".expected.ndjson"));
            client.refresh().await.unwrap();
            let indices: BTreeSet<&str> = docs.iter().map(|p| p.split('/').next().unwrap()).collect();
            let indices = indices.into_iter().collect::<Vec<_>>().join(",");
            assert_eq!(held(client, &indices).await, docs, "{name} on {case}: documents");
            // Dead letters go to the index of the month they are written in.
            let written = held(client, "*-deadletter-*").await;
            assert_eq!(ids(&written), ids(&dead), "{name} on {case}: dead letters");
            client.call("DELETE", "/*-deadletter-*", None).await.unwrap();
            docs.len() + dead.len()
        }
    };

    let (stdout, stderr) = instance.stop();
    let summaries = summaries(&stdout);
    assert_eq!(summaries.len(), handled, "{name}: one summary line per event it handled: {stdout}");
    let records_in = summaries[handled - 1]["RecordsIn"].as_u64().unwrap();
    assert!(records_in >= received as u64, "{name} on {case}: RecordsIn {records_in} < {received}");
    assert!(!stderr.contains("panicked"), "{name}: {stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_function_binary_serves_its_trigger_under_the_lambda_emulator() {
    let (server, client) = server().await;
    let emulator = Emulator::start().unwrap();
    // A closed port: none of these fixtures puts records back into Firehose.
    let env = environment(server.url(), "http://127.0.0.1:9");
    for case in [
        ("cloudtrail", "cloudtrail", "invictus-ir-01", Expect::Indexed),
        ("waf", "waf", "opensearch-catalog", Expect::Response),
        ("vpcflow", "vpcflow", "opensearch-catalog", Expect::Response),
        ("route53", "route53", "panther", Expect::Response),
        ("route53", "route53", "synthetic-public", Expect::Indexed),
        ("securityhub", "securityhub", "asr-simdata-batch-0", Expect::Indexed),
    ] {
        serves(&emulator, &client, &env, case).await;
    }
}

/// The alerter with OpenSearch in another account: one run searches and writes an alert, and the
/// function assumes its role through STS once for both (one session, one cache), not once per
/// client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_alerter_binary_raises_a_burst_with_one_assumed_role_session() {
    use seclog_core::sink::BulkSink;
    let moto = seclog_testkit::moto::Moto::start();
    let sts = seclog_testkit::proxy::FaultProxy::start(moto.url(), []).await;
    let (server, client) = server().await;
    // Six failed sign-ins from one address over the last minutes: a brute-force burst.
    let now = chrono::Utc::now();
    let docs = (0..6_u16).map(|i| {
        let at = now - chrono::Duration::seconds(300 - 30 * i64::from(i));
        let at = at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        seclog_e2e::failed_sign_in(format!("sign-in-{i}"), &at, "203.0.113.7", &at)
    });
    let sink = seclog_core::sink::opensearch::OpenSearchSink::with_signer(seclog_e2e::fast_config(server.url()), None)
        .unwrap();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    assert_eq!(sink.deliver(docs.collect(), deadline).await.unwrap().indexed, 6);
    client.refresh().await.unwrap();

    let emulator = Emulator::start().unwrap();
    let mut env = environment(server.url(), "http://127.0.0.1:9");
    env.push(("OPENSEARCH_ROLE_ARN", "arn:aws:iam::111122223333:role/seclog-central-writer".into()));
    env.push(("AWS_ENDPOINT_URL_STS", sts.url()));
    let instance = Instance::start(&emulator, &binary("debug", "detect").unwrap(), &env).await.unwrap();
    let (status, body) =
        emulator.invoke(br#"{"detail-type": "Scheduled Event", "source": "aws.scheduler"}"#).await.unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let report: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(report["raised"].as_array().unwrap().len(), 1, "{report}");
    client.refresh().await.unwrap();
    assert_eq!(held(&client, "seclog-alerts-*").await.len(), 1);

    let (_, stderr) = instance.stop();
    let asked = sts.stats().bodies.iter().map(|b| String::from_utf8_lossy(b).into_owned()).collect::<Vec<_>>();
    assert_eq!(asked.len(), 1, "one AssumeRole call for the searches and the writes: {asked:?}\n{stderr}");
    assert!(asked[0].contains("Action=AssumeRole"), "{asked:?}");
}

/// The `s3` function as deployed: its S3 and SQS clients come from its environment alone. Objects
/// in AWS's layouts are put into a moto bucket that notifies a moto queue; the queue's messages,
/// as Lambda's SQS event, index every record once, and the same event again adds nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_s3_binary_reads_notified_objects_with_clients_from_its_environment() {
    let moto = seclog_testkit::moto::Moto::start();
    let seclog_e2e::NotifiedFixtures { queue, event, .. } = seclog_e2e::notified_fixtures(moto.url()).await;
    let messages = event.records.iter().map(|m| (m.message_id.as_str(), m.body.as_str()));
    let event = seclog_e2e::sqs_event(messages, "arn:aws:sqs:us-east-1:123456789012:seclog-s3");

    let (server, client) = server().await;
    let emulator = Emulator::start().unwrap();
    let mut env = environment(server.url(), "http://127.0.0.1:9");
    env.extend([
        ("AWS_ENDPOINT_URL_S3", moto.url().to_owned()),
        ("AWS_ENDPOINT_URL_SQS", moto.url().to_owned()),
        ("CONTINUATION_QUEUE_URL", queue),
    ]);
    let instance = Instance::start(&emulator, &binary("debug", "s3").unwrap(), &env).await.unwrap();
    for _ in 0..2 {
        let (status, body) = emulator.invoke(&event).await.unwrap();
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let response: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(response, serde_json::json!({"batchItemFailures": []}));
    }
    client.refresh().await.unwrap();
    let mut counts = Vec::new();
    for pattern in ["cloudtrail-*", "vpcflow-*", "waf-*", "route53-resolver-*", "alb-*", "*-deadletter-*"] {
        counts.push(client.count(pattern).await.unwrap());
    }
    assert_eq!(counts, [11, 4, 4, 34, 9, 1], "the same documents as the in-process test, once");

    let (stdout, stderr) = instance.stop();
    let summaries = summaries(&stdout);
    assert_eq!(summaries.len(), 2, "{stdout}");
    assert_eq!((summaries[0]["Indexed"].as_u64(), summaries[1]["Indexed"].as_u64()), (Some(62), Some(0)), "{stdout}");
    assert_eq!(summaries[1]["AlreadyPresent"].as_u64(), Some(62), "{stdout}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// A busy window: 6,000 failed console sign-ins (a brute-force burst) and 6,000 API calls, each
/// document 3 KB, as a large account writes in half an hour. The alerter reads at most 5,000
/// matches per search; each must cost it only the fields an alert shows, not the whole document,
/// or one run needs more memory than a 128 MB function has.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_alerter_binary_stays_within_64_mib_on_a_busy_window() {
    use seclog_core::document::{Document, Origin, WriteOp};
    use seclog_core::sink::BulkSink;
    let (server, client) = server().await;
    let now = chrono::Utc::now();
    let padding = "x".repeat(3000);
    let at = |i: i64| (now - chrono::Duration::milliseconds(1_500_000 - 200 * i)).to_rfc3339();
    let sign_ins = (0..6_000).map(|i| {
        let mut doc = seclog_e2e::failed_sign_in(format!("sign-in-{i}"), &at(i), "203.0.113.7", &at(i));
        let mut body: Value = serde_json::from_slice(&doc.body).unwrap();
        body["additionalEventData"] = serde_json::json!({ "padding": padding });
        doc.body = serde_json::to_vec(&body).unwrap();
        doc
    });
    let calls = (0..6_000).map(|i| {
        let (time, id) = (at(i), format!("call-{i}"));
        let body = serde_json::json!({"@timestamp": time, "event": {"action": "DescribeInstances", "ingested": time},
            "eventType": "AwsApiCall", "eventName": "DescribeInstances", "userIdentity": {"arn": format!("arn:aws:iam::111122223333:user/u{}", i % 50)},
            "source": {"ip": "198.51.100.4", "as": {"number": 64_500 + i % 7}}, "requestParameters": {"padding": padding}});
        let origin = Origin { dataset: "aws.cloudtrail", record_id: id.clone().into(), raw: "".into() };
        let index = format!("cloudtrail-{}", time[..10].replace('-', "."));
        Document::new(index, id, WriteOp::Create, body.to_string().into_bytes(), origin)
    });
    let sink = seclog_core::sink::opensearch::OpenSearchSink::with_signer(seclog_e2e::fast_config(server.url()), None)
        .unwrap();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(120);
    let docs: Vec<_> = sign_ins.chain(calls).collect();
    assert_eq!(sink.deliver(docs, deadline).await.unwrap().indexed, 12_000);
    client.refresh().await.unwrap();

    let emulator = Emulator::start().unwrap();
    let mut env = environment(server.url(), "http://127.0.0.1:9");
    env.push(("FIRST_SEEN_WITHOUT_HISTORY", "true".into()));
    let instance = Instance::start(&emulator, &binary("debug", "detect").unwrap(), &env).await.unwrap();
    let (status, body) =
        emulator.invoke(br#"{"detail-type": "Scheduled Event", "source": "aws.scheduler"}"#).await.unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let report: Value = serde_json::from_slice(&body).unwrap();
    let raised = report["raised"].as_array().unwrap();
    let of = |rule: &str| raised.iter().filter(|a| a["rule"] == rule).count();
    // Two bursts (the sign-ins span 20 minutes: 3,001 in the first ten, 1,999 after), and 350
    // new (principal, network) pairs, of which one run checks at most 200.
    assert_eq!(of("AWS Console Sign-In Brute-Force Burst"), 2, "{report}");
    assert_eq!(of("AWS API Call From a Network New for the Principal"), seclog_detect::find::MAX_FIRST_SEEN_PAIRS);
    assert_eq!(raised.len(), 202, "{report}");
    let peak_mib = instance.peak_rss_kib().unwrap() / 1024;
    let (_, stderr) = instance.stop();
    assert!(peak_mib <= 64, "the alerter's run peaked at {peak_mib} MiB\n{stderr}");
}
