//! End to end against a real `osmem-server`: every WAF and VPC Flow Logs fixture, transformed by
//! the real transforms and delivered as Firehose would deliver it, indexes with the shipped
//! templates with zero item errors; a second replay changes nothing.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use seclog_cli::questions::{self, Scope};
use seclog_cli::replay::Source;
use seclog_core::firehose::{RecordContext, RecordTransform};
use seclog_e2e::{documents, promised, server, terms, FixtureReplay};
use seclog_vpcflow::VpcFlowTransform;
use seclog_waf::WafTransform;
use serde_json::json;

#[tokio::test]
async fn the_demo_answers_the_waf_and_vpc_questions_from_the_index() {
    let (server, client) = server().await;
    FixtureReplay::new(server.url(), &["waf", "vpcflow"], None).run().await;
    client.refresh().await.unwrap();
    let ctx = RecordContext::default();
    let waf = documents("waf", &|r| WafTransform::new(seclog_testkit::enricher()).transform(r, &ctx).unwrap());
    let vpc = documents("vpcflow", &|r| {
        VpcFlowTransform::default().with_enricher(seclog_testkit::enricher()).transform(r, &ctx).unwrap()
    });

    let blocked = terms(waf.iter().filter(|d| d["action"] == "BLOCK").map(|d| &d["rule"]["id"]));
    assert_eq!(questions::top_blocked_rules(&client, &Scope::all(), 100).await.unwrap(), blocked);
    assert_eq!(blocked[0], ("AWS-AWSManagedRulesCommonRuleSet".to_owned(), 9));

    let countries: Vec<(String, u64, u64)> = terms(waf.iter().map(|d| &d["source"]["geo"]["country_iso_code"]))
        .into_iter()
        .map(|(c, n)| {
            let blocked = waf
                .iter()
                .filter(|d| d["source"]["geo"]["country_iso_code"] == c.as_str() && d["action"] == "BLOCK")
                .count();
            (c, n, blocked as u64)
        })
        .collect();
    assert_eq!(questions::top_client_countries(&client, &Scope::all(), 100).await.unwrap(), countries);

    let mut talkers: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for d in &vpc {
        if let Some(ip) = d["source"]["ip"].as_str() {
            let t = talkers.entry(ip.to_owned()).or_default();
            t.0 += d["network"]["bytes"].as_u64().unwrap_or(0);
            t.1 += 1;
        }
    }
    let mut talkers: Vec<(String, u64, u64)> = talkers.into_iter().map(|(ip, (b, f))| (ip, b, f)).collect();
    talkers.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    talkers.truncate(5);
    assert_eq!(questions::top_talkers(&client, &Scope::all(), 5).await.unwrap(), talkers);

    let rejects: Vec<&serde_json::Value> = vpc.iter().filter(|d| d["event"]["action"] == "reject").collect();
    let (total, sources) = questions::rejected_flows(&client, &Scope::all(), 100).await.unwrap();
    assert_eq!(total, rejects.len() as u64);
    let by_source = terms(rejects.iter().map(|d| &d["source"]["ip"]));
    assert_eq!(sources.iter().map(|(ip, n, _)| (ip.clone(), *n)).collect::<Vec<_>>(), by_source);
    assert!(sources.iter().any(|(ip, _, ports)| ip == "192.0.2.44" && ports == &["22"]));
}

#[tokio::test]
async fn waf_and_vpc_fixtures_index_with_zero_item_errors_and_replay_idempotently() {
    let (server, client) = server().await;
    let mut replay = FixtureReplay::new(server.url(), &["waf", "vpcflow"], None);
    let report = replay.run_clean().await;
    let (waf_docs, waf_failed) = promised("waf");
    let (vpc_docs, vpc_failed) = promised("vpcflow");
    let waf = &report.sources[&Source::Waf];
    let vpc = &report.sources[&Source::Vpcflow];
    assert_eq!((waf.indexed as u64, waf.dead_lettered as u64), (waf_docs, waf_failed));
    assert_eq!((vpc.indexed as u64, vpc.dead_lettered as u64), (vpc_docs, vpc_failed));

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

    let again = replay.run().await;
    assert_eq!(again.sources.values().map(|t| t.indexed).sum::<usize>(), 0, "a replay writes nothing new");
    client.refresh().await.unwrap();
    assert_eq!(client.count("waf-*").await.unwrap(), waf_docs);
    assert_eq!(client.count("vpcflow-*").await.unwrap(), vpc_docs);
    assert_eq!(client.count("*-deadletter-*").await.unwrap(), waf_failed + vpc_failed);
}
