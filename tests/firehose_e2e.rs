//! End to end against a real `osmem-server`: every WAF and VPC Flow Logs fixture, transformed by
//! the real transforms and delivered as Firehose would deliver it, indexes with the shipped
//! templates with zero item errors; a second replay changes nothing.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::Duration;

use seclog_cli::replay::{self, Source};
use seclog_core::sink::opensearch::OpenSearchSink;
use seclog_e2e::{fast_config, server};
use seclog_testkit::{fixtures, inputs, sibling};
use serde_json::json;

/// `(Ok documents, ProcessingFailed records)` the goldens of `source` promise. Every record the
/// fixtures re-ingest is a valid log, so each adds one document when Firehose's part is played.
fn promised(source: &str) -> (u64, u64) {
    let (mut docs, mut failed) = (0, 0);
    for input in inputs(source) {
        let response: serde_json::Value =
            serde_json::from_slice(&std::fs::read(sibling(&input, ".expected.json")).unwrap()).unwrap();
        for r in response["records"].as_array().unwrap() {
            match r["result"].as_str().unwrap() {
                "Ok" => docs += 1,
                "ProcessingFailed" => failed += 1,
                _ => {}
            }
        }
        if let Ok(text) = std::fs::read_to_string(sibling(&input, ".reingested.ndjson")) {
            docs += text.lines().count() as u64;
        }
    }
    (docs, failed)
}

#[tokio::test]
async fn waf_and_vpc_fixtures_index_with_zero_item_errors_and_replay_idempotently() {
    let (server, client) = server().await;
    let sink = OpenSearchSink::with_signer(fast_config(server.url()), None).unwrap();
    let dl = sink.deadletters().clone();
    let files: Vec<PathBuf> = replay::discover(&[fixtures("waf"), fixtures("vpcflow")]).unwrap();
    let (report, sink) =
        replay::replay(&files, None, None, sink, dl.clone(), Duration::from_secs(30), |_, _, _| {}).await.unwrap();
    let (waf_docs, waf_failed) = promised("waf");
    let (vpc_docs, vpc_failed) = promised("vpcflow");
    let waf = &report.sources[&Source::Waf];
    let vpc = &report.sources[&Source::Vpcflow];
    assert_eq!((waf.indexed as u64, waf.dead_lettered as u64), (waf_docs, waf_failed));
    assert_eq!((vpc.indexed as u64, vpc.dead_lettered as u64), (vpc_docs, vpc_failed));
    assert!(!report.failed() && report.skipped.is_empty(), "{:?}", report.skipped);

    client.refresh().await.unwrap();
    assert_eq!(client.count("waf-*").await.unwrap(), waf_docs);
    assert_eq!(client.count("vpcflow-*").await.unwrap(), vpc_docs);
    assert_eq!(client.count("*-deadletter-*").await.unwrap(), waf_failed + vpc_failed);
    let refused = client
        .search("*-deadletter-*", &json!({"size": 0, "query": {"bool": {"must_not": {"term": {"deadletter.error_type": "processing_failed"}}}}}))
        .await
        .unwrap();
    assert_eq!(refused["hits"]["total"]["value"], 0, "no document was refused by the server");

    // Mapped as the templates say: dates, addresses and numbers are searchable as such.
    let rejected = client
        .search(
            "vpcflow-*",
            &json!({"size": 0, "query": {"bool": {"filter": [
            {"term": {"event.action": "reject"}}, {"range": {"bytes": {"gte": 40}}},
            {"term": {"source.ip": "198.51.100.0/24"}}]}}}),
        )
        .await
        .unwrap();
    assert_eq!(rejected["hits"]["total"]["value"], 1);
    let blocked = client
        .search("waf-*", &json!({"size": 0, "query": {"bool": {"filter": [
            {"term": {"action": "BLOCK"}}, {"range": {"timestamp": {"gte": "2023-11-14T00:00:00Z", "lt": "2024-01-01T00:00:00Z"}}}]}}}))
        .await
        .unwrap();
    assert_eq!(blocked["hits"]["total"]["value"], 4);

    let (again, _) = replay::replay(&files, None, None, sink, dl, Duration::from_secs(30), |_, _, _| {}).await.unwrap();
    assert_eq!(again.sources.values().map(|t| t.indexed).sum::<usize>(), 0, "a replay writes nothing new");
    client.refresh().await.unwrap();
    assert_eq!(client.count("waf-*").await.unwrap(), waf_docs);
    assert_eq!(client.count("vpcflow-*").await.unwrap(), vpc_docs);
    assert_eq!(client.count("*-deadletter-*").await.unwrap(), waf_failed + vpc_failed);
}
