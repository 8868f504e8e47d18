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

#[tokio::test]
async fn notified_objects_on_moto_s3_and_sqs_index_once_and_a_second_delivery_adds_nothing() {
    use seclog_s3::handler::{process, Deps, S3Store, SqsQueue};

    let moto = seclog_testkit::moto::Moto::start();
    let seclog_e2e::NotifiedFixtures { s3, sqs, queue, event } = seclog_e2e::notified_fixtures(moto.url()).await;

    let (server, client) = server().await;
    let sink = OpenSearchSink::with_signer(fast_config(server.url()), None).unwrap();
    let deps = Deps {
        deadletters: sink.deadletters().clone(),
        sink,
        store: S3Store(s3),
        queue: SqsQueue { client: sqs, url: queue },
        transforms: std::sync::Arc::new(seclog_s3::transform::Transforms::new(
            seclog_testkit::enricher(),
            seclog_testkit::rules(),
        )),
        config: seclog_s3::config::FunctionConfig::default(),
        clock: chrono::Utc::now,
    };
    let mut runs = Vec::new();
    for _ in 0..2 {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
        let (response, summary) = process(&event, &deps, deadline).await;
        assert!(response.batch_item_failures.is_empty(), "{response:?}");
        runs.push((
            summary.received,
            summary.delivery.indexed,
            summary.delivery.already_present,
            summary.dropped,
            summary.delivery.dead_lettered,
        ));
    }
    // Records: 10 trail + 1 Insights + 1 digest + 5 flow lines (header included) + 4 WAF + 34
    // Resolver + 10 access-log lines, and the test event S3 sends when the notification is set.
    let test_events = event.records.len() - 7;
    assert!(test_events <= 1, "{test_events}");
    assert_eq!(runs[0], (65 + test_events, 62, 0, 2 + test_events, 1));
    assert_eq!(runs[1], (65 + test_events, 0, 62, 2 + test_events, 1), "the second delivery adds nothing");
    client.refresh().await.unwrap();
    let counts = [
        client.count("cloudtrail-*").await.unwrap(),
        client.count("vpcflow-*").await.unwrap(),
        client.count("waf-*").await.unwrap(),
        client.count("route53-resolver-*").await.unwrap(),
        client.count("alb-*").await.unwrap(),
        client.count("*-deadletter-*").await.unwrap(),
    ];
    assert_eq!(counts, [11, 4, 4, 34, 9, 1]);
}

#[tokio::test]
async fn an_interrupted_backfill_resumes_from_its_state_without_reading_finished_objects_again() {
    use seclog_cli::s3_replay::{backfill, Options};
    use std::sync::atomic::{AtomicBool, Ordering};

    let moto = seclog_testkit::moto::Moto::start();
    let sdk = seclog_e2e::moto_sdk(moto.url()).await;
    let s3 = seclog_e2e::moto_s3(&sdk);
    s3.create_bucket().bucket("archive").send().await.unwrap();
    assert_eq!(seclog_e2e::put_s3_fixtures(&s3, "archive").await, 7);
    let readme = aws_sdk_s3::primitives::ByteStream::from_static(b"what this bucket holds");
    s3.put_object().bucket("archive").key("README.txt").body(readme).send().await.unwrap();

    let (server, client) = server().await;
    let state = std::env::temp_dir().join(format!("seclog-backfill-state-{}", std::process::id()));
    let _ = std::fs::remove_file(&state);
    let options = Options {
        since: None,
        until: None,
        concurrency: 2,
        state: Some(state.clone()),
        budget: std::time::Duration::from_secs(60),
    };
    let transforms =
        std::sync::Arc::new(seclog_s3::transform::Transforms::new(seclog_testkit::enricher(), seclog_testkit::rules()));
    let mut runs = Vec::new();
    for interrupt_after in [Some(3), None] {
        let sink = OpenSearchSink::with_signer(fast_config(server.url()), None).unwrap();
        let deadletters = sink.deadletters().clone();
        let deps = (sink, deadletters, transforms.clone());
        let stop = AtomicBool::new(false);
        let target = "s3://archive".parse().unwrap();
        let report = backfill(s3.clone(), &target, &options, deps, &stop, |at| {
            if interrupt_after.is_some_and(|n| at.done >= n) {
                stop.store(true, Ordering::Relaxed);
            }
        })
        .await
        .unwrap();
        assert!(!report.failed());
        assert_eq!(report.skipped.len(), 1, "the README is in no log layout: {:?}", report.skipped);
        let objects: usize = report.sources.values().map(|t| t.files).sum();
        let indexed: usize = report.sources.values().map(|t| t.indexed).sum();
        runs.push((objects, indexed, std::fs::read_to_string(&state).unwrap().lines().count()));
    }
    let (first, second) = (runs[0], runs[1]);
    assert!((3..=4).contains(&first.0), "interrupted after 3 objects, with one more in flight: {runs:?}");
    assert_eq!(first.2, first.0, "each finished object is in the state file");
    assert_eq!(second.0, 7 - first.0, "the second run reads only what the first did not finish: {runs:?}");
    assert_eq!((first.1 + second.1, second.2), (62, 7), "every document indexed once: {runs:?}");
    client.refresh().await.unwrap();
    assert_eq!(client.count("alb-*").await.unwrap(), 9);
    assert_eq!(client.count("cloudtrail-*").await.unwrap(), 11);
    let _ = std::fs::remove_file(&state);
}

/// `OpenSearchSink`, each delivery taking a second longer.
struct SlowSink(OpenSearchSink);

impl seclog_core::sink::BulkSink for SlowSink {
    async fn deliver(
        &self,
        docs: Vec<seclog_core::document::Document<'_>>,
        deadline: tokio::time::Instant,
    ) -> Result<seclog_core::sink::DeliveryReport, seclog_core::DeliveryError> {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        self.0.deliver(docs, deadline).await
    }
}

#[tokio::test]
async fn a_big_object_continues_through_the_real_queue_three_times_and_is_indexed_once() {
    use seclog_s3::handler::{process, Deps, S3Store, SqsQueue};
    use std::time::Duration;

    let moto = seclog_testkit::moto::Moto::start();
    let sdk = seclog_e2e::moto_sdk(moto.url()).await;
    let s3 = seclog_e2e::moto_s3(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue = sqs.create_queue().queue_name("seclog-s3").send().await.unwrap().queue_url.unwrap();
    s3.create_bucket().bucket("logs").send().await.unwrap();
    let key = "AWSLogs/111122223333/elasticloadbalancing/eu-west-1/2026/11/30/111122223333_elasticloadbalancing_eu-west-1_app.web.1_20261130T2235Z_203.0.113.9_big.log.gz";
    let mut lines = String::new();
    for i in 0..14 {
        let _ = std::fmt::Write::write_fmt(
            &mut lines,
            format_args!(
                "https 2026-11-30T22:00:{i:02}.000000Z app/web/1 198.51.100.{i}:443 10.0.0.1:80 0.001 0.002 0.000 200 200 10 20 \
                 \"GET https://example.com:443/{i} HTTP/1.1\" \"curl/8\" - - arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/t/1\n"
            ),
        );
    }
    let body = aws_sdk_s3::primitives::ByteStream::from(seclog_core::decode::gzip(lines.as_bytes()));
    s3.put_object().bucket("logs").key(key).body(body).send().await.unwrap();

    let (server, client) = server().await;
    let sink = OpenSearchSink::with_signer(fast_config(server.url()), None).unwrap();
    let deps = Deps {
        deadletters: sink.deadletters().clone(),
        sink: SlowSink(sink),
        store: S3Store(s3),
        queue: SqsQueue { client: sqs.clone(), url: queue.clone() },
        transforms: std::sync::Arc::new(seclog_s3::transform::Transforms::default()),
        // Two documents a chunk; a delivery takes a second; an object continues half a second
        // before a deadline 2.5 s away: two chunks an invocation.
        config: seclog_s3::config::FunctionConfig {
            chunk_documents: 2,
            continue_before: Duration::from_millis(500),
            ..seclog_s3::config::FunctionConfig::default()
        },
        clock: chrono::Utc::now,
    };
    let notification = serde_json::json!({"Records": [{"eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": "logs"}, "object": {"key": key}}}]});
    let mut event = seclog_s3::handler::SqsEvent {
        records: vec![seclog_s3::handler::SqsMessage { message_id: "m0".into(), body: notification.to_string() }],
    };
    let (mut invocations, mut indexed, mut present) = (0, 0, 0);
    while !event.records.is_empty() {
        invocations += 1;
        let (response, summary) =
            process(&event, &deps, tokio::time::Instant::now() + Duration::from_millis(2500)).await;
        assert!(response.batch_item_failures.is_empty());
        (indexed, present) = (indexed + summary.delivery.indexed, present + summary.delivery.already_present);
        event = seclog_e2e::drain(&sqs, &queue).await;
    }
    assert_eq!(invocations, 4, "three continuations, each through the queue");
    assert_eq!((indexed, present), (14, 0), "every record indexed once, none read twice");
    client.refresh().await.unwrap();
    assert_eq!(client.count("alb-*").await.unwrap(), 14);
    let paths = client
        .search("alb-*", &json!({"size": 0, "aggs": {"p": {"cardinality": {"field": "url.path"}}}}))
        .await
        .unwrap();
    assert_eq!(paths["aggregations"]["p"]["value"], 14);
}
