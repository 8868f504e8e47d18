//! Log objects as AWS delivers them to S3 (`fixtures/s3/<bucket>/AWSLogs/…`), replayed from disk
//! into a real server with the templates installed: every record is indexed, dropped by rule or
//! dead-lettered exactly once, the server refuses nothing, and a second replay adds nothing.
#![allow(clippy::unwrap_used)]

use seclog_cli::replay::{self, Source};
use seclog_core::sink::opensearch::OpenSearchSink;
use seclog_e2e::{fast_config, options, server};
use serde_json::json;

#[tokio::test]
async fn objects_in_aws_layouts_index_once_with_the_shipped_templates() {
    let (server, client) = server().await;
    let files = replay::discover(&[seclog_testkit::fixtures("s3")]).unwrap();
    assert_eq!(files.len(), 7, "the goldens are not objects: {files:?}");
    let mut reports = Vec::new();
    for _ in 0..2 {
        let sink = OpenSearchSink::with_signer(fast_config(server.url()), None).unwrap();
        let dl = sink.deadletters().clone();
        let (report, _) = replay::replay(&files, &options(), sink, dl, |_, _, _| {}).await.unwrap();
        assert!(!report.failed() && report.skipped.is_empty(), "{:?}", report.skipped);
        reports.push(report);
    }
    let first: Vec<_> =
        reports[0].sources.iter().map(|(s, t)| (*s, t.records, t.indexed, t.dropped, t.dead_lettered)).collect();
    assert_eq!(
        first,
        [
            // The trail's records, one Insights event, and a digest file dropped by rule.
            (Source::Cloudtrail, 12, 11, 1, 0),
            (Source::Waf, 4, 4, 0, 0),
            // The header line is dropped by rule.
            (Source::Vpcflow, 5, 4, 1, 0),
            (Source::Route53, 34, 34, 0, 0),
            // The line cut inside its user agent is dead-lettered alone.
            (Source::Alb, 10, 9, 0, 1),
        ]
    );
    let again: Vec<_> = reports[1].sources.values().map(|t| (t.indexed, t.already_present, t.dead_lettered)).collect();
    assert_eq!(
        again,
        [(0, 11, 0), (0, 4, 0), (0, 4, 0), (0, 34, 0), (0, 9, 1)],
        "the second replay adds nothing (the dead letter is written under the same id)"
    );

    client.refresh().await.unwrap();
    assert_eq!(client.count("alb-*").await.unwrap(), 9);
    let dead = client.search("*-deadletter-*", &json!({"size": 5})).await.unwrap();
    let hits = dead["hits"]["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 1);
    let letter = &hits[0]["_source"]["deadletter"];
    assert_eq!(letter["error_type"], "bad_line");
    assert!(letter["record_id"].as_str().unwrap().ends_with(".log.gz#10"), "{letter}");
    assert!(letter["raw"].as_str().unwrap().ends_with("\"Mozilla/5.0 (Windows"), "{letter}");
    // The shipped template types the fields a question needs.
    let five_xx = client
        .search(
            "alb-*",
            &json!({"size": 0, "query": {"range": {"http.response.status_code": {"gte": 500}}},
                "aggs": {"targets": {"terms": {"field": "destination.ip"}}}}),
        )
        .await
        .unwrap();
    assert_eq!(five_xx["hits"]["total"]["value"], 4);
}

#[tokio::test]
async fn a_trail_delivered_to_cloudwatch_logs_and_to_s3_is_one_document_per_event() {
    let (server, client) = server().await;
    let subscription = seclog_testkit::fixtures("cloudtrail").join("invictus-ir-02.input.json");
    let object = replay::discover(&[seclog_testkit::fixtures("s3").join("trail-bucket")])
        .unwrap()
        .into_iter()
        .find(|p| p.to_string_lossy().contains("/CloudTrail/"))
        .unwrap();
    let mut indexed = Vec::new();
    for file in [subscription, object] {
        let sink = OpenSearchSink::with_signer(fast_config(server.url()), None).unwrap();
        let dl = sink.deadletters().clone();
        let (report, _) = replay::replay(&[file], &options(), sink, dl, |_, _, _| {}).await.unwrap();
        let trail = &report.sources[&Source::Cloudtrail];
        indexed.push((trail.indexed, trail.already_present));
    }
    // The object's 10 records are among the subscription's 709 events.
    assert_eq!(indexed, [(709, 0), (0, 10)]);
    client.refresh().await.unwrap();
    assert_eq!(client.count("cloudtrail-*").await.unwrap(), 709);
}
