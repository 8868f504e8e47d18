//! End to end: every Security Hub / GuardDuty fixture indexes into a real `osmem-server` with the
//! shipped template and zero item errors; one finding delivered three times (two updates, the older
//! one last) is one document holding the newest state; the demo's questions are answered from the
//! index; and the Firehose delivery path puts the documents into a real `moto` stream.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use seclog_cli::questions::{self, Scope};
use seclog_cli::replay::Source;
use seclog_core::sink::backoff::Backoff;
use seclog_core::sink::delivery_stream::{FirehoseSink, StreamSink};
use seclog_core::sink::opensearch::OpenSearchSink;
use seclog_e2e::{fast_config, firehose_to_s3, s3_objects, server, FixtureReplay};
use seclog_securityhub::config::Config;
use seclog_securityhub::handler::{process, Delivery, Deps};
use seclog_testkit::moto::Moto;
use seclog_testkit::{fixtures, inputs, sibling};
use serde_json::{json, Value};

/// The state the goldens leave for each `index/id` when written in order, the dead letters' ids,
/// how many writes are refused as stale or repeated, and how many win (new, or newer). External versions keep the highest
/// `UpdatedAt` (the version in the action line); an equal or lower one is a conflict.
fn expected() -> Expected {
    let (mut docs, mut dead): (BTreeMap<String, (u64, Value)>, HashSet<String>) = (BTreeMap::new(), HashSet::new());
    let (mut conflicts, mut wins) = (0, 0);
    for input in inputs("securityhub") {
        let text = std::fs::read_to_string(sibling(&input, ".expected.ndjson")).unwrap();
        let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        for pair in lines.chunks(2) {
            if let Some(create) = pair[0].get("create") {
                dead.insert(create["_id"].as_str().unwrap().to_owned());
                continue;
            }
            let meta = &pair[0]["index"];
            let key = format!("{}/{}", meta["_index"].as_str().unwrap(), meta["_id"].as_str().unwrap());
            let version = meta["version"].as_u64().unwrap();
            if docs.get(&key).is_none_or(|(v, _)| version > *v) {
                docs.insert(key, (version, pair[1].clone()));
                wins += 1;
            } else {
                conflicts += 1;
            }
        }
    }
    Expected { docs, dead, conflicts, wins }
}

struct Expected {
    /// `index/id` → `(version, document)`.
    docs: BTreeMap<String, (u64, Value)>,
    dead: HashSet<String>,
    conflicts: usize,
    wins: usize,
}

#[tokio::test]
async fn findings_index_once_each_with_the_newest_state_and_the_demo_answers() {
    let (server, client) = server().await;
    let mut replay = FixtureReplay::new(server.url(), &["securityhub"], Some(Source::Securityhub));
    let report = replay.run_clean().await;

    let Expected { docs, dead, conflicts, wins } = expected();
    client.refresh().await.unwrap();
    assert_eq!(client.count("securityhub-*").await.unwrap(), docs.len() as u64);
    assert_eq!(client.count("*-deadletter-*").await.unwrap(), dead.len() as u64);
    let refused = client
        .search("*-deadletter-*", &json!({"size": 0, "query": {"exists": {"field": "deadletter.status"}}}))
        .await
        .unwrap();
    assert_eq!(refused["hits"]["total"]["value"], 0, "no document was refused by the server");
    let totals = &report.sources[&Source::Securityhub];

    assert_eq!(totals.already_present, conflicts, "stale and repeated states are version conflicts: already present");
    assert_eq!(totals.indexed, wins, "every new finding, and every newer state");
    assert!(wins > docs.len(), "the corpus updates findings");

    // The same GuardDuty finding three times: 10:00, 12:00, then 11:00. The 12:00 state stays.
    let hit = client
        .search("securityhub-guardduty-*", &json!({"query": {"term": {"Id": "arn:aws:guardduty:eu-west-1:111111111111:detector/d1e2/finding/a1b2c3"}}}))
        .await
        .unwrap();
    assert_eq!(hit["hits"]["total"]["value"], 1);
    let state = &hit["hits"]["hits"][0]["_source"];
    assert_eq!(state["UpdatedAt"], "2024-03-10T12:00:00.000Z");
    assert_eq!(state["finding"]["severity"]["label"], "HIGH");
    assert_eq!(state["Workflow"]["Status"], "NOTIFIED");
    assert_eq!(state["source"]["geo"]["country_iso_code"], "KR");

    // Mapped as the template says: free-form keys are searchable without becoming fields.
    let by_key = client
        .search("securityhub-*", &json!({"size": 0, "query": {"term": {"ProductFields.aws/config/ConfigRuleName": "s3-bucket-public-read-prohibited"}}}))
        .await
        .unwrap();
    let config_rules = docs
        .values()
        .filter(|(_, d)| d["ProductFields"]["aws/config/ConfigRuleName"] == "s3-bucket-public-read-prohibited")
        .count();
    assert_eq!(by_key["hits"]["total"]["value"], config_rules as u64);
    let mapping = client.call("GET", "securityhub-config-*/_mapping", None).await.unwrap();
    let props = &mapping.as_object().unwrap().values().next().unwrap()["mappings"]["properties"];
    assert_eq!(props["ProductFields"]["type"], "flat_object");
    assert!(props["Resources"]["properties"]["Details"]["properties"].is_null(), "Details is one flat_object field");
    let recent = client
        .search(
            "securityhub-*",
            &json!({"size": 0, "query": {"range": {"finding.updated_at": {"gte": "2024-01-01T00:00:00Z"}}}}),
        )
        .await
        .unwrap();
    let since_2024 =
        docs.values().filter(|(_, d)| d["finding"]["updated_at"].as_str().unwrap() >= "2024-01-01").count();
    assert_eq!(recent["hits"]["total"]["value"], since_2024 as u64);

    // 15. Findings by product and severity.
    let mut products: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for (_, d) in docs.values() {
        let f = &d["finding"];
        *products
            .entry(f["product"].as_str().unwrap().to_owned())
            .or_default()
            .entry(f["severity"]["label"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    let answered = questions::findings_by_product(&client, &Scope::all(), 20).await.unwrap();
    assert_eq!(answered.len(), products.len());
    for (product, n, severities) in &answered {
        let want = &products[product];
        assert_eq!(*n, want.values().sum::<u64>(), "{product}");
        let got: BTreeMap<String, u64> = severities.iter().cloned().collect();
        assert_eq!(&got, want, "{product}");
    }
    assert_eq!(answered[0].0, "config", "the 256 KB event holds 159 Config findings");

    // 16. Top failing controls.
    let mut failing: BTreeMap<String, u64> = BTreeMap::new();
    for (_, d) in docs.values() {
        let f = &d["finding"];
        if let (true, Some(control)) =
            (f["compliance_status"] == "FAILED" && f["record_state"] == "ACTIVE", f["control_id"].as_str())
        {
            *failing.entry(control.to_owned()).or_default() += 1;
        }
    }
    let answered = questions::top_failing_controls(&client, &Scope::all(), 3).await.unwrap();
    let mut want: Vec<(String, u64)> = failing.into_iter().collect();
    want.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let got: Vec<(String, u64)> = answered.iter().map(|(c, n, _)| (c.clone(), *n)).collect();
    assert_eq!(got, want[..3].to_vec());
    assert_eq!(answered[0].2, "s3-bucket-public-read-prohibited");

    let again = replay.run().await;
    assert_eq!(again.sources[&Source::Securityhub].indexed, 0, "a redelivery writes nothing new");
    client.refresh().await.unwrap();
    assert_eq!(client.count("securityhub-*").await.unwrap(), docs.len() as u64);
    assert_eq!(client.count("*-deadletter-*").await.unwrap(), dead.len() as u64);
}

#[tokio::test]
async fn the_firehose_path_puts_every_document_into_the_stream() {
    let moto = Moto::start();
    let client = firehose_to_s3(moto.url(), &moto, "securityhub-findings", "seclog-findings").await;
    let backoff = Backoff { base: Duration::from_millis(5), max: Duration::from_millis(50), max_attempts: 5 };
    let delivery: Delivery<OpenSearchSink, FirehoseSink> = Delivery::Firehose(StreamSink {
        stream: "securityhub-findings".into(),
        sink: FirehoseSink::new(client, backoff),
    });
    let config = Config { delivery_stream: Some("securityhub-findings".into()), ..Config::default() };
    let deps = Deps::new(delivery, config);
    let mut sent = Vec::new();
    for name in ["synthetic-config", "synthetic-bad-findings"] {
        let text = std::fs::read_to_string(fixtures("securityhub").join(format!("{name}.input.json"))).unwrap();
        let event: Box<serde_json::value::RawValue> = serde_json::from_str(&text).unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        sent.push(process(&event, &deps, deadline).await.unwrap());
    }
    assert_eq!((sent[0].delivery.indexed, sent[0].delivery.dead_lettered), (1, 0));
    assert_eq!((sent[1].delivery.indexed, sent[1].delivery.dead_lettered), (1, 3));
    let delivered = s3_objects(&moto, "seclog-findings").await;
    let titles = delivered.matches("\"title\":\"s3-bucket-public-read-prohibited\"").count();
    assert_eq!(titles, 2, "both findings' documents reached the stream: {delivered}");
    assert_eq!(delivered.matches("\"event\":{\"dataset\":\"seclog.deadletter\"").count(), 3);
}

/// One finding, one `UpdatedAt`, a given workflow status, in its EventBridge event.
fn same_time_state(status: &str) -> Box<serde_json::value::RawValue> {
    let finding = json!({"SchemaVersion": "2018-10-08", "Id": "arn:aws:securityhub:eu-west-1:111111111111:finding/tie",
        "ProductArn": "arn:aws:securityhub:eu-west-1::product/aws/securityhub", "GeneratorId": "g", "AwsAccountId": "111111111111",
        "Region": "eu-west-1", "Types": ["Software and Configuration Checks"], "CreatedAt": "2024-03-10T10:00:00.000Z",
        "UpdatedAt": "2024-03-10T10:00:00.000Z", "Title": "tie", "Description": "d",
        "Severity": {"Label": "HIGH", "Normalized": 70}, "Workflow": {"Status": status}, "RecordState": "ACTIVE",
        "ProductFields": {"aws/securityhub/ProductName": "Security Hub"}, "Resources": [{"Type": "Other", "Id": "r"}]});
    let event = json!({"version": "0", "id": format!("e-{status}"), "detail-type": "Security Hub Findings - Imported",
        "source": "aws.securityhub", "account": "111111111111", "time": "2024-03-10T10:00:01Z", "region": "eu-west-1",
        "resources": [], "detail": {"findings": [finding]}});
    serde_json::value::to_raw_value(&event).unwrap()
}

#[tokio::test]
async fn two_states_with_the_same_updated_at_converge_on_one_whatever_the_order() {
    let mut kept = Vec::new();
    for order in [["NEW", "NOTIFIED"], ["NOTIFIED", "NEW"]] {
        let (server, client) = server().await;
        let sink = OpenSearchSink::with_signer(fast_config(server.url()), None).unwrap();
        let deps = Deps::<OpenSearchSink, FirehoseSink>::new(Delivery::Bulk(sink), Config::default());
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let first = process(&same_time_state(order[0]), &deps, deadline).await.unwrap();
        let second = process(&same_time_state(order[1]), &deps, deadline).await.unwrap();
        assert_eq!(first.delivery.indexed, 1);
        assert_eq!(second.delivery.indexed + second.delivery.already_present, 1);
        // The same state again is a redelivery: already present, whatever its order.
        for status in order {
            let again = process(&same_time_state(status), &deps, deadline).await.unwrap();
            assert_eq!((again.delivery.indexed, again.delivery.already_present), (0, 1), "{status} again");
        }
        client.refresh().await.unwrap();
        let hit = client.search("securityhub-*", &json!({})).await.unwrap();
        assert_eq!(hit["hits"]["total"]["value"], 1);
        kept.push(hit["hits"]["hits"][0]["_source"]["Workflow"]["Status"].as_str().unwrap().to_owned());
    }
    assert_eq!(kept[0], kept[1], "both orders keep the same state");
}

#[tokio::test]
async fn findings_at_or_above_high_raise_one_alert_each_and_a_rerun_raises_none() {
    let (server, client) = server().await;
    FixtureReplay::new(server.url(), &["securityhub"], Some(Source::Securityhub)).run().await;
    client.refresh().await.unwrap();

    // What the goldens say is indexed: the newest state of each finding.
    let active = |d: &Value| {
        let f = &d["finding"];
        ["HIGH", "CRITICAL"].contains(&f["severity"]["label"].as_str().unwrap_or(""))
            && !["SUPPRESSED", "RESOLVED"].contains(&f["workflow_status"].as_str().unwrap_or(""))
            && f["record_state"] != "ARCHIVED"
    };
    let want = expected().docs.values().filter(|(_, d)| active(d)).count();
    assert!(want > 0, "the corpus has findings at or above HIGH");

    // One run whose window covers the corpus (2019 to 2025), with nothing but the findings rule.
    let opensearch = fast_config(server.url());
    let deps = seclog_detect::handler::Deps {
        sink: OpenSearchSink::with_signer(opensearch.clone(), None).unwrap(),
        client: seclog_cli::client::Client::new(opensearch).await.unwrap(),
        rules: std::sync::Arc::new(seclog_rules::RuleSet::default()),
        config: seclog_detect::config::DetectConfig {
            lookback: std::time::Duration::from_secs(3650 * 86_400),
            first_seen: false,
            ..seclog_detect::config::DetectConfig::default()
        },
        notifier: seclog_detect::notify::Notifier::new(std::time::Duration::from_secs(1)).unwrap(),
    };
    let now = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().to_utc();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    let first = seclog_detect::handler::run(&deps, now, deadline).await.unwrap();
    assert_eq!(first.raised.len(), want, "{:?}", first.raised);
    assert!(first.raised.iter().all(|r| r.level >= seclog_rules::Level::High));
    let again = seclog_detect::handler::run(&deps, now, deadline).await.unwrap();
    assert_eq!((again.raised.len(), again.already_raised), (0, want));
}
