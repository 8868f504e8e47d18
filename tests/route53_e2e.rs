//! End to end against a real `osmem-server`: every Route 53 fixture (Resolver logs through
//! Firehose, public and Resolver logs through `CloudWatch` Logs) indexes with the shipped templates
//! with zero item errors, replays idempotently, and the demo's Route 53 questions are answered
//! from the index exactly as the golden documents say.
#![allow(clippy::unwrap_used)]

use seclog_cli::questions::{self, Scope};
use seclog_cli::replay::Source;
use seclog_core::firehose::{RecordContext, RecordTransform};
use seclog_e2e::{documents, promised, server, terms, FixtureReplay};
use seclog_route53::Route53Transform;
use seclog_testkit::{inputs, sibling};
use serde_json::{json, Value};

/// `(documents, dead letters)` of the subscription fixtures' goldens (bulk NDJSON).
fn subscription_goldens() -> (Vec<Value>, u64) {
    let (mut docs, mut dead) = (Vec::new(), 0);
    for input in inputs("route53") {
        let Ok(text) = std::fs::read_to_string(sibling(&input, ".expected.ndjson")) else { continue };
        let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        for pair in lines.chunks(2) {
            if pair[0]["create"]["_index"].as_str().unwrap().contains("-deadletter-") {
                dead += 1;
            } else {
                docs.push(pair[1].clone());
            }
        }
    }
    (docs, dead)
}

/// Every document the fixtures produce, from the goldens.
fn all_documents() -> (Vec<Value>, u64) {
    let transform = Route53Transform::default().with_enricher(seclog_testkit::enricher());
    let ctx = RecordContext::default();
    let mut docs = documents("route53", &|r| transform.transform(r, &ctx).unwrap());
    let (logs, dead) = subscription_goldens();
    docs.extend(logs);
    (docs, dead + promised("route53").1)
}

#[tokio::test]
async fn route53_fixtures_index_with_zero_item_errors_and_the_demo_answers_from_them() {
    let (server, client) = server().await;
    let mut replay = FixtureReplay::new(server.url(), &["route53"], Some(Source::Route53));
    let report = replay.run_clean().await;

    let (docs, dead) = all_documents();
    let totals = &report.sources[&Source::Route53];
    assert_eq!((totals.indexed as u64, totals.dead_lettered as u64), (docs.len() as u64, dead));
    client.refresh().await.unwrap();
    let resolver = docs.iter().filter(|d| d["event"]["dataset"] == "aws.route53_resolver").count() as u64;
    assert_eq!(client.count("route53-resolver-*").await.unwrap(), resolver);
    assert_eq!(client.count("route53-public-*").await.unwrap(), docs.len() as u64 - resolver);
    assert_eq!(client.count("*-deadletter-*").await.unwrap(), dead);
    let refused = client
        .search("*-deadletter-*", &json!({"size": 0, "query": {"exists": {"field": "deadletter.status"}}}))
        .await
        .unwrap();
    assert_eq!(refused["hits"]["total"]["value"], 0, "no document was refused by the server");

    // Mapped as the templates say: entropy is a number, addresses are IPs, locations geo_points.
    let mapping = client.call("GET", "route53-public-*/_mapping", None).await.unwrap();
    let index = mapping.as_object().unwrap().values().next().unwrap();
    let props = &index["mappings"]["properties"];
    assert_eq!(props["client"]["properties"]["geo"]["properties"]["location"]["type"], "geo_point");
    assert_eq!(
        props["dns"]["properties"]["question"]["properties"]["first_label"]["properties"]["entropy"]["type"],
        "float"
    );
    let high =
        docs.iter().filter(|d| d["dns"]["question"]["first_label"]["entropy"].as_f64().unwrap_or(0.0) >= 3.5).count();
    let found = client
        .search(
            "route53-*",
            &json!({"size": 0, "query": {"range": {"dns.question.first_label.entropy": {"gte": 3.5}}}}),
        )
        .await
        .unwrap();
    assert_eq!(found["hits"]["total"]["value"], high as u64);
    assert!(high >= 4, "the tunnelling fixtures are high-entropy");
    let korea = client
        .search("route53-public-*", &json!({"size": 0, "query": {"bool": {"filter": [
            {"term": {"source.ip": "121.134.0.0/16"}},
            {"geo_bounding_box": {"client.geo.location": {"top_left": {"lat": 38.0, "lon": 126.0}, "bottom_right": {"lat": 37.0, "lon": 128.0}}}}]}}}))
        .await
        .unwrap();
    let from_seongnam = docs.iter().filter(|d| d["client"]["geo"]["city_name"] == "Seongnam-si").count() as u64;
    assert_eq!(korea["hits"]["total"]["value"], from_seongnam);
    assert_eq!(from_seongnam, 2);

    // 12. Top queried domains.
    let domains = terms(docs.iter().map(|d| &d["dns"]["question"]["registered_domain"]));
    let top: Vec<(String, u64)> = domains.iter().take(5).cloned().collect();
    assert_eq!(questions::top_queried_domains(&client, &Scope::all(), 5).await.unwrap(), top);
    assert_eq!(top[0].0, "example.com");

    // 13. NXDOMAIN by source.
    let mut by_source: std::collections::BTreeMap<String, (u64, u64)> = std::collections::BTreeMap::new();
    for d in &docs {
        if let Some(ip) = d["source"]["ip"].as_str() {
            let e = by_source.entry(ip.to_owned()).or_default();
            e.0 += 1;
            e.1 += u64::from(d["dns"]["response_code"] == "NXDOMAIN");
        }
    }
    let answered = questions::nxdomain_by_source(&client, &Scope::all(), 100).await.unwrap();
    assert_eq!(answered.len(), by_source.len());
    for (ip, n, nx) in &answered {
        assert_eq!(by_source[ip], (*n, *nx), "{ip}");
    }
    assert!(answered.windows(2).all(|w| w[0].2 >= w[1].2), "most NXDOMAIN first");
    assert_eq!(answered[0].0, "8.8.8.8");

    // 14. Highest-entropy names.
    let mut names: Vec<(String, f64)> = docs
        .iter()
        .map(|d| {
            let q = &d["dns"]["question"];
            (q["name"].as_str().unwrap().to_owned(), q["first_label"]["entropy"].as_f64().unwrap_or(0.0))
        })
        .collect();
    names.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let answered = questions::highest_entropy_names(&client, &Scope::all(), 3).await.unwrap();
    let top: Vec<(String, f64)> = answered.iter().map(|(n, e, _, _)| (n.clone(), *e)).collect();
    assert_eq!(top, names[..3].to_vec());
    assert!(top[0].0.ends_with(".t.exfil.example.net"), "{top:?}");

    let again = replay.run().await;
    assert_eq!(again.sources[&Source::Route53].indexed, 0, "a replay writes nothing new");
    client.refresh().await.unwrap();
    assert_eq!(client.count("route53-*").await.unwrap(), docs.len() as u64);
    assert_eq!(client.count("*-deadletter-*").await.unwrap(), dead);
}
