//! Faults between the sink and a real `osmem-server`, injected by the project's proxy: 429 and 503
//! storms, partial bulk failures, timeouts, resets, a mapping error, an unreachable endpoint and a
//! spent budget. In each, documents in the server plus dead letters account for every input
//! exactly once, and a retried invocation never duplicates.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use seclog_core::DeliveryError;
use seclog_e2e::{counts, deps, event, expected, fast_config, run, server, total};
use seclog_testkit::proxy::{Fault, FaultProxy};
use serde_json::json;

const CASE: &str = "stratus-red-team";
const BUDGET: Duration = Duration::from_secs(30);

async fn through(faults: Vec<Fault>) -> (seclog_cli::osmem::Server, seclog_cli::client::Client, FaultProxy) {
    let (server, client) = server().await;
    let proxy = FaultProxy::start(server.url(), faults).await;
    (server, client, proxy)
}

async fn assert_all_indexed_once(client: &seclog_cli::client::Client) {
    let want = expected(&[CASE]);
    assert_eq!(counts(client).await, (want.documents.len() as u64, 0));
}

#[tokio::test]
async fn a_429_storm_is_retried_until_everything_is_in() {
    let (_s, client, proxy) = through(vec![Fault::Status(429); 4]).await;
    let s = run(&deps(fast_config(&proxy.url())), &[event(CASE)], BUDGET).await.unwrap();
    assert!(total(&s, |s| s.delivery.retried) > 0);
    assert_eq!(proxy.stats().faults, 4);
    assert_all_indexed_once(&client).await;
}

#[tokio::test]
async fn a_503_storm_is_retried_until_everything_is_in() {
    let (_s, client, proxy) = through(vec![Fault::Status(503); 3]).await;
    run(&deps(fast_config(&proxy.url())), &[event(CASE)], BUDGET).await.unwrap();
    assert_all_indexed_once(&client).await;
}

#[tokio::test]
async fn only_the_failed_items_of_a_partial_bulk_failure_are_retried() {
    let (_s, client, proxy) = through(vec![Fault::PartialBulk { every: 3, status: 429 }]).await;
    let s = run(&deps(fast_config(&proxy.url())), &[event(CASE)], BUDGET).await.unwrap();
    let stats = proxy.stats();
    assert!(stats.items_failed > 0);
    assert_eq!(total(&s, |s| s.delivery.retried), stats.items_failed, "exactly the failed items are sent again");
    assert_eq!(total(&s, |s| s.delivery.indexed), expected(&[CASE]).documents.len());
    assert_all_indexed_once(&client).await;
}

#[tokio::test]
async fn timeouts_and_resets_are_retried() {
    let (_s, client, proxy) = through(vec![Fault::Delay(Duration::from_secs(3)), Fault::Reset, Fault::Reset]).await;
    let mut config = fast_config(&proxy.url());
    config.request_timeout = Duration::from_millis(500);
    let s = run(&deps(config), &[event(CASE)], BUDGET).await.unwrap();
    assert!(total(&s, |s| s.delivery.retried) > 0);
    assert_all_indexed_once(&client).await;
}

#[tokio::test]
async fn a_mapping_error_dead_letters_that_document_only() {
    let (server, client) = server().await;
    let good = json!({"eventID": "ok-1", "eventTime": "2024-01-01T00:00:00Z", "eventName": "A"});
    // `userIdentity.type` is a keyword: an object there is refused by the server.
    let bad = json!({"eventID": "bad-1", "eventTime": "2024-01-01T00:00:00Z", "eventName": "B",
                     "userIdentity": {"type": {"not": "a keyword"}}});
    let payload = json!({"messageType": "DATA_MESSAGE", "owner": "1", "logGroup": "g", "logStream": "s",
        "subscriptionFilters": [], "logEvents": [
            {"id": "1", "timestamp": 0, "message": good.to_string()},
            {"id": "2", "timestamp": 0, "message": bad.to_string()}]});
    let ev = seclog_core::envelope::cloudwatch_logs::CloudWatchLogsEvent {
        awslogs: seclog_core::envelope::cloudwatch_logs::AwsLogs {
            data: seclog_core::decode::gzip_base64(payload.to_string().as_bytes()),
        },
    };
    let d = deps(fast_config(server.url()));
    let s = run(&d, std::slice::from_ref(&ev), BUDGET).await.unwrap();
    assert_eq!((s[0].delivery.indexed, s[0].delivery.dead_lettered), (1, 1));
    assert_eq!(counts(&client).await, (1, 1));
    let hit = client.search("*-deadletter-*", &json!({})).await.unwrap();
    let letter = &hit["hits"]["hits"][0]["_source"]["deadletter"];
    assert_eq!(letter["error_type"], "mapper_parsing_exception");
    assert_eq!(letter["status"], 400);
    assert_eq!(letter["intended_index"], "cloudtrail-2024.01.01");
    assert_eq!(letter["raw"], bad.to_string());
    // Redelivered: nothing grows.
    run(&d, &[ev], BUDGET).await.unwrap();
    assert_eq!(counts(&client).await, (1, 1));
}

#[tokio::test]
async fn an_unreachable_endpoint_fails_the_invocation_and_the_retry_loses_nothing() {
    let (server, client) = server().await;
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let started = std::time::Instant::now();
    let err = run(&deps(fast_config(&closed)), &[event(CASE)], Duration::from_secs(2)).await.unwrap_err();
    assert!(matches!(err, DeliveryError::RetriesExhausted { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(4), "the budget is respected");
    assert_eq!(counts(&client).await, (0, 0));
    // Lambda retries the invocation; this time the cluster is there.
    run(&deps(fast_config(server.url())), &[event(CASE)], BUDGET).await.unwrap();
    assert_all_indexed_once(&client).await;
}

#[tokio::test]
async fn a_budget_spent_mid_delivery_fails_and_the_redelivery_does_not_duplicate() {
    // The first request half succeeds, then the cluster keeps answering 503.
    let mut plan = vec![Fault::PartialBulk { every: 2, status: 503 }];
    plan.extend(vec![Fault::Status(503); 1000]);
    let (server, client, proxy) = through(plan).await;
    let err = run(&deps(fast_config(&proxy.url())), &[event(CASE)], Duration::from_secs(1)).await.unwrap_err();
    assert!(matches!(err, DeliveryError::RetriesExhausted { .. }), "{err}");
    let (partial, _) = counts(&client).await;
    assert!(partial > 0 && partial < expected(&[CASE]).documents.len() as u64);
    // Lambda's retry, once the cluster has recovered.
    let d = deps(fast_config(server.url()));
    let s = run(&d, &[event(CASE)], BUDGET).await.unwrap();
    assert_eq!(s[0].delivery.already_present as u64, partial, "what was written before counts as present");
    assert_all_indexed_once(&client).await;
}

#[tokio::test]
async fn a_refusal_of_the_whole_request_fails_the_invocation() {
    let (_s, client, proxy) = through(vec![Fault::Status(403)]).await;
    let err = run(&deps(fast_config(&proxy.url())), &[event(CASE)], BUDGET).await.unwrap_err();
    assert!(matches!(err, DeliveryError::Refused { status: 403, .. }), "{err}");
    assert_eq!(counts(&client).await, (0, 0));
}

#[tokio::test]
async fn requests_are_chunked_by_count_and_by_bytes() {
    let (_s, client, proxy) = through(vec![]).await;
    // One index per request, then at most 50 documents per request.
    let requests: usize = expected(&[CASE]).items_per_index.iter().map(|(_, n)| n.div_ceil(50)).sum();
    let mut config = fast_config(&proxy.url());
    config.max_bulk_docs = std::num::NonZeroUsize::new(50).unwrap();
    let s = run(&deps(config), &[event(CASE)], BUDGET).await.unwrap();
    assert_eq!(s[0].delivery.bulk_requests, requests);
    assert_eq!(proxy.stats().requests, requests);
    assert_all_indexed_once(&client).await;

    let mut config = fast_config(&proxy.url());
    config.max_bulk_bytes = std::num::NonZeroUsize::new(64 * 1024).unwrap();
    let s = run(&deps(config), &[event(CASE)], BUDGET).await.unwrap();
    assert!(s[0].delivery.bulk_requests >= s[0].delivery.bytes_sent / (64 * 1024), "{s:?}");
    assert!(s[0].delivery.bulk_requests > 1);
}

#[tokio::test]
async fn a_413_splits_the_request() {
    let (_s, client, proxy) = through(vec![Fault::Status(413), Fault::Status(413)]).await;
    let s = run(&deps(fast_config(&proxy.url())), &[event(CASE)], BUDGET).await.unwrap();
    assert_eq!(s[0].delivery.retried, 0, "a split is not a retry");
    let indices = expected(&[CASE]).items_per_index;
    assert!(indices[0].1 >= 4, "the first index's request can be halved twice");
    assert_eq!(
        s[0].delivery.bulk_requests,
        1 + 2 + 2 + (indices.len() - 1),
        "the first index: one refused, its halves (one refused), that half's halves; then one per other index"
    );
    assert_all_indexed_once(&client).await;
}

/// What Amazon OpenSearch Service and OpenSearch answer while a write cannot succeed *yet*: the
/// low-storage block, a read-only index, a closed index, an index that is not there while auto-create
/// is off, and a security refusal while a role mapping propagates.
fn write_blocks() -> Vec<(u16, &'static str)> {
    vec![
        (403, "cluster_block_exception"),
        (429, "cluster_block_exception"),
        (400, "index_closed_exception"),
        (404, "index_not_found_exception"),
        (403, "security_exception"),
    ]
}

fn block_body(status: u16, error_type: &str) -> String {
    json!({"error": {"root_cause": [{"type": error_type, "reason": "blocked by: [FORBIDDEN/8/index write (api)];"}],
        "type": error_type, "reason": "blocked by: [FORBIDDEN/8/index write (api)];"}, "status": status})
    .to_string()
}

#[tokio::test]
async fn write_blocks_on_items_are_retried_never_dead_lettered() {
    for (status, error_type) in write_blocks() {
        let item = Fault::ItemError { every: 1, status, error_type: error_type.into() };
        let (_s, client, proxy) = through(vec![item.clone(), item]).await;
        let s = run(&deps(fast_config(&proxy.url())), &[event(CASE)], BUDGET).await.unwrap();
        let failed = proxy.stats().items_failed;
        assert_eq!(s[0].delivery.dead_lettered, 0, "{error_type}");
        assert!(failed > 0, "{error_type}");
        assert_eq!(s[0].delivery.retried, failed, "{error_type}: every blocked item was retried ({s:?})");
        assert_all_indexed_once(&client).await;
    }
}

#[tokio::test]
async fn a_write_block_that_outlasts_the_budget_fails_the_invocation_and_dead_letters_nothing() {
    for (status, error_type) in write_blocks() {
        let item = Fault::ItemError { every: 1, status, error_type: error_type.into() };
        let (server, client, proxy) = through(vec![item; 1000]).await;
        let err = run(&deps(fast_config(&proxy.url())), &[event(CASE)], Duration::from_secs(1)).await.unwrap_err();
        assert!(matches!(err, DeliveryError::RetriesExhausted { .. }), "{error_type}: {err}");
        assert_eq!(counts(&client).await, (0, 0), "{error_type}: nothing indexed, nothing dead-lettered");
        // Lambda retries the invocation once the block is lifted: everything arrives, once.
        run(&deps(fast_config(server.url())), &[event(CASE)], BUDGET).await.unwrap();
        assert_all_indexed_once(&client).await;
    }
}

#[tokio::test]
async fn write_blocks_on_the_whole_request_are_retried() {
    for (status, error_type) in write_blocks() {
        let block = Fault::Respond { status, body: block_body(status, error_type) };
        let (_s, client, proxy) = through(vec![block.clone(), block]).await;
        let s = run(&deps(fast_config(&proxy.url())), &[event(CASE)], BUDGET).await.unwrap();
        assert_eq!((s[0].delivery.dead_lettered, proxy.stats().faults), (0, 2), "{error_type}");
        assert_all_indexed_once(&client).await;

        let (_s, client, proxy) =
            through(vec![Fault::Respond { status, body: block_body(status, error_type) }; 1000]).await;
        let err = run(&deps(fast_config(&proxy.url())), &[event(CASE)], Duration::from_secs(1)).await.unwrap_err();
        assert!(matches!(err, DeliveryError::RetriesExhausted { .. }), "{error_type}: {err}");
        assert_eq!(counts(&client).await, (0, 0), "{error_type}");
    }
}

#[tokio::test]
async fn each_request_writes_one_index_through_its_own_path_and_names_no_index_in_the_body() {
    let (_server, client, proxy) = through(vec![]).await;
    let record = |id: &str, time: &str| json!({"eventID": id, "eventTime": time, "eventName": "A"}).to_string();
    let payload = json!({"messageType": "DATA_MESSAGE", "owner": "1", "logGroup": "g", "logStream": "s",
        "subscriptionFilters": [], "logEvents": [
            {"id": "1", "timestamp": 0, "message": record("a", "2024-01-01T00:00:00Z")},
            {"id": "2", "timestamp": 0, "message": record("b", "2024-01-02T00:00:00Z")},
            {"id": "3", "timestamp": 0, "message": record("c", "2024-01-01T01:00:00Z")},
            {"id": "4", "timestamp": 0, "message": "not json"}]});
    let ev = seclog_core::envelope::cloudwatch_logs::CloudWatchLogsEvent {
        awslogs: seclog_core::envelope::cloudwatch_logs::AwsLogs {
            data: seclog_core::decode::gzip_base64(payload.to_string().as_bytes()),
        },
    };
    let config = seclog_core::sink::opensearch::config::OpenSearchConfig { gzip: false, ..fast_config(&proxy.url()) };
    let s = run(&deps(config), &[ev], BUDGET).await.unwrap();
    assert_eq!((s[0].delivery.indexed, s[0].delivery.dead_lettered), (3, 1));
    assert_eq!(counts(&client).await, (3, 1));
    let stats = proxy.stats();
    let month = chrono::Utc::now().format("%Y.%m");
    assert_eq!(
        stats.requests_seen,
        [
            "POST /cloudtrail-2024.01.01/_bulk".to_owned(),
            "POST /cloudtrail-2024.01.02/_bulk".to_owned(),
            format!("POST /seclog-deadletter-{month}/_bulk"),
        ]
    );
    for body in &stats.bodies {
        let text = std::str::from_utf8(body).unwrap();
        assert!(!text.contains("\"_index\""), "{text}");
    }
    assert_eq!(std::str::from_utf8(&stats.bodies[0]).unwrap().matches("\"create\"").count(), 2, "a and c, one request");
}

/// 200 answers that are not a bulk response for the request sent.
fn malformed_bulk_answers() -> Vec<(&'static str, String)> {
    let item = r#"{"create":{"_index":"x","_id":"y","status":201}}"#;
    vec![
        ("not JSON", "<html>502 Bad Gateway</html>".to_owned()),
        ("truncated", format!(r#"{{"took":1,"errors":false,"items":[{item},"#)),
        ("no items", r#"{"took":1,"errors":false}"#.to_owned()),
        ("too few items", format!(r#"{{"took":1,"errors":false,"items":[{item}]}}"#)),
        ("an item without an action", r#"{"took":1,"errors":false,"items":[{}]}"#.to_owned()),
        ("an empty body", String::new()),
    ]
}

#[tokio::test]
async fn a_malformed_200_is_never_counted_as_written() {
    for (shape, body) in malformed_bulk_answers() {
        // Once: retried, and everything arrives exactly once.
        let (_s, client, proxy) = through(vec![Fault::Respond { status: 200, body: body.clone() }]).await;
        let s = run(&deps(fast_config(&proxy.url())), &[event(CASE)], BUDGET).await.unwrap();
        assert!(s[0].delivery.retried > 0, "{shape}: the answered items were sent again");
        let sent: usize = expected(&[CASE]).items_per_index.iter().map(|(_, n)| n).sum();
        assert_eq!(s[0].delivery.indexed + s[0].delivery.already_present, sent, "{shape}");
        assert_all_indexed_once(&client).await;

        // Always: the invocation fails, nothing is counted, nothing dead-lettered.
        let (_s, client, proxy) = through(vec![Fault::Respond { status: 200, body }; 1000]).await;
        let err = run(&deps(fast_config(&proxy.url())), &[event(CASE)], Duration::from_secs(1)).await.unwrap_err();
        assert!(matches!(err, DeliveryError::RetriesExhausted { .. }), "{shape}: {err}");
        assert_eq!(counts(&client).await, (0, 0), "{shape}");
    }
}

/// A one-trick HTTP server on loopback: answers every connection with `answer` (after reading the
/// request head), then sleeps `hold` with the connection open. Counts the connections it accepted.
async fn raw_server(answer: String, hold: Duration) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut buf = vec![0_u8; 1 << 16];
                let _ = stream.read(&mut buf).await;
                let _ = stream.write_all(answer.as_bytes()).await;
                tokio::time::sleep(hold).await;
            });
        }
    });
    (url, seen)
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let (elsewhere, visits) = raw_server("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}".into(), Duration::ZERO).await;
    let redirect =
        format!("HTTP/1.1 307 Temporary Redirect\r\nlocation: {elsewhere}/_bulk\r\ncontent-length: 0\r\n\r\n");
    let (url, _) = raw_server(redirect, Duration::ZERO).await;
    let err = run(&deps(fast_config(&url)), &[event(CASE)], BUDGET).await.unwrap_err();
    assert!(matches!(err, DeliveryError::Refused { status: 307, .. }), "{err}");
    assert_eq!(visits.load(std::sync::atomic::Ordering::SeqCst), 0, "the signed request never went to the other host");
}

#[tokio::test]
async fn an_answer_larger_than_the_cap_is_not_read_and_the_request_is_retried() {
    let huge = "x".repeat(seclog_core::sink::opensearch::MAX_RESPONSE_BYTES + 1);
    let (_s, client, proxy) = through(vec![Fault::Respond { status: 200, body: huge.clone() }]).await;
    let s = run(&deps(fast_config(&proxy.url())), &[event(CASE)], BUDGET).await.unwrap();
    assert!(s[0].delivery.retried > 0);
    assert_all_indexed_once(&client).await;
    // Refused for its size, before it is held in memory.
    let (_s, _client, proxy) = through(vec![Fault::Respond { status: 200, body: huge }; 100]).await;
    let mut config = fast_config(&proxy.url());
    config.backoff.max_attempts = 3;
    let err = run(&deps(config), &[event(CASE)], BUDGET).await.unwrap_err();
    assert!(err.to_string().contains("larger than 16777216 bytes"), "{err}");
}

#[tokio::test]
async fn a_body_that_stops_arriving_is_given_up_after_the_request_timeout_not_the_whole_budget() {
    let head =
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"took\":1,".to_owned();
    let (url, connections) = raw_server(head, Duration::from_secs(60)).await;
    let mut config = fast_config(&url);
    config.request_timeout = Duration::from_millis(300);
    let started = std::time::Instant::now();
    let err = run(&deps(config), &[event(CASE)], Duration::from_secs(3)).await.unwrap_err();
    assert!(matches!(err, DeliveryError::RetriesExhausted { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let tries = connections.load(std::sync::atomic::Ordering::SeqCst);
    assert!(tries >= 3, "each stalled body held one attempt for 300 ms, not the 3 s budget: {tries} attempts");
}
