//! The templates on what users run: a cluster without `flat_object` (Elasticsearch 7.10, or
//! `OpenSearch` before 2.7) gets the variant whose free-form objects are kept unindexed, chosen from
//! its `GET /` answer (canned by the proxy, since osmem always reports `OpenSearch` 3), and every
//! fixture indexes on that variant exactly as on the current one; a cluster the templates cannot
//! work on is refused before anything is installed.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use seclog_cli::client::Client;
use seclog_cli::osmem::Server;
use seclog_cli::replay::Source;
use seclog_cli::templates::{self, Variant};
use seclog_core::sink::opensearch::config::OpenSearchConfig;
use seclog_e2e::{server, FixtureReplay};
use seclog_testkit::proxy::{Fault, FaultProxy};
use serde_json::{json, Value};

/// Elasticsearch 7.10.2's answer to `GET /` (the OSS build Amazon's Elasticsearch domains run).
const ELASTICSEARCH_7_10: &str = r#"{"name":"node-1","cluster_name":"123456789012:logs","cluster_uuid":"kL2n","version":{"number":"7.10.2","build_flavor":"oss","build_type":"tar","build_hash":"unknown","build_date":"2021-01-13T00:42:12.435326Z","build_snapshot":false,"lucene_version":"8.7.0","minimum_wire_compatibility_version":"6.8.0","minimum_index_compatibility_version":"6.0.0-beta1"},"tagline":"You Know, for Search"}"#;

const ELASTICSEARCH_6_8: &str = r#"{"name":"node-1","cluster_name":"old","cluster_uuid":"x","version":{"number":"6.8.23","build_flavor":"oss","build_type":"tar","build_snapshot":false,"lucene_version":"7.7.3"},"tagline":"You Know, for Search"}"#;

/// A client whose first request (`GET /`) is answered by `root`; the rest reach osmem.
async fn behind(server: &Server, root: &str) -> (FaultProxy, Client) {
    let proxy = FaultProxy::start(server.url(), [Fault::Respond { status: 200, body: root.to_owned() }]).await;
    let client = Client::new(OpenSearchConfig::local(&proxy.url()).unwrap()).await.unwrap();
    (proxy, client)
}

/// Every fixture replayed into `server`: per source `(indexed, dead-lettered)`, and the dead
/// letters' reasons with their counts.
async fn replay_fixtures(server: &Server, client: &Client) -> (BTreeMap<Source, (usize, usize)>, Vec<(String, u64)>) {
    let families = ["cloudtrail", "waf", "vpcflow", "route53", "securityhub", "s3"];
    let report = FixtureReplay::new(server.url(), &families, None).run().await;
    // Fixtures that are not Lambda events (an SNS message a notifier received) are skipped alike.
    assert!(!report.failed() && report.skipped.len() <= 1, "{:?}", report.skipped);
    client.refresh().await.unwrap();
    let reasons = client
        .search(
            "*-deadletter-*",
            &json!({"size": 0, "aggs": {"r": {"terms": {"field": "deadletter.error_type", "size": 100}}}}),
        )
        .await
        .unwrap();
    let reasons = reasons["aggregations"]["r"]["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["key"].as_str().unwrap().to_owned(), b["doc_count"].as_u64().unwrap()))
        .collect();
    (report.sources.iter().map(|(s, t)| (*s, (t.indexed, t.dead_lettered))).collect(), reasons)
}

#[tokio::test]
async fn an_elasticsearch_7_10_cluster_gets_unindexed_free_form_objects_and_every_fixture_indexes_as_on_opensearch_3() {
    let old = Server::start().unwrap();
    let (proxy, client) = behind(&old, ELASTICSEARCH_7_10).await;
    let installed = templates::install(&client, None).await.unwrap();
    assert_eq!((installed.variant, installed.cluster.as_str()), (Variant::Unindexed, "Elasticsearch 7.10.2"));
    assert_eq!(proxy.stats().requests, 1 + templates::TEMPLATES.len(), "GET / and one PUT per family");

    let held = client.call("GET", "_index_template/seclog-*", None).await.unwrap();
    let held = held["index_templates"].as_array().unwrap();
    assert_eq!(held.len(), templates::TEMPLATES.len());
    assert!(!held.iter().any(|t| t.to_string().contains(r#""type":"flat_object""#)));
    let trail = held.iter().find(|t| t["name"] == "seclog-cloudtrail").unwrap();
    let fields = &trail["index_template"]["template"]["mappings"]["properties"];
    assert_eq!(fields["requestParameters"], json!({"type": "object", "enabled": false}));
    assert_eq!(fields["eventName"]["type"], "keyword", "everything else as shipped");

    let (current, current_client) = server().await;
    let on_current = replay_fixtures(&current, &current_client).await;
    let on_old = replay_fixtures(&old, &client).await;
    assert_eq!(on_old, on_current);
    assert!(on_old.0.values().map(|(indexed, _)| indexed).sum::<usize>() > 500, "{on_old:?}");
    assert!(!on_old.1.iter().any(|(reason, _)| reason.contains("exception")), "refused by the server: {:?}", on_old.1);

    // What is not indexed is still in every hit.
    let hit = client
        .search("cloudtrail-*", &json!({"size": 1, "query": {"term": {"eventName": "GetSecretValue"}}}))
        .await
        .unwrap();
    assert_eq!(
        hit["hits"]["hits"][0]["_source"]["requestParameters"]["secretId"].as_str().map(str::is_empty),
        Some(false)
    );
}

#[tokio::test]
async fn a_cluster_without_composable_templates_is_refused_by_name_and_nothing_is_installed() {
    let old = Server::start().unwrap();
    let (proxy, client) = behind(&old, ELASTICSEARCH_6_8).await;
    let err = templates::install(&client, None).await.unwrap_err().to_string();
    assert!(err.contains("Elasticsearch 6.8.23") && err.contains("OpenSearch 1.0 or later"), "{err}");
    assert_eq!(proxy.stats().requests, 1, "only GET /");
    let held: Value = client.call("GET", "_index_template", None).await.unwrap();
    assert_eq!(held["index_templates"].as_array().map(Vec::len), Some(0), "{held}");
}

#[tokio::test]
async fn a_variant_given_is_installed_without_asking_the_cluster() {
    let server = Server::start().unwrap();
    let (proxy, client) = behind(&server, ELASTICSEARCH_6_8).await;
    proxy.clear_plan();
    let installed = templates::install(&client, Some(Variant::Unindexed)).await.unwrap();
    assert_eq!(installed.variant, Variant::Unindexed);
    assert_eq!(proxy.stats().requests, templates::TEMPLATES.len(), "no GET /");
}
