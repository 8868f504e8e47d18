//! End to end against a real `osmem-server`: the whole `CloudTrail` corpus, SigV4-signed and
//! gzipped, indexes with zero item errors; a second replay changes nothing; the demo's questions
//! are answered from the index; undecodable payloads land in the dead-letter index.
#![allow(clippy::unwrap_used)]

use seclog_core::config::FromEnv;
use std::time::Duration;

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use seclog_cli::questions::{self, Scope};
use seclog_cloudtrail::config::FunctionConfig;
use seclog_cloudtrail::handler::Deps;
use seclog_core::envelope::cloudwatch_logs::{AwsLogs, CloudWatchLogsEvent};
use seclog_core::sink::opensearch::config::SigningService;
use seclog_core::sink::opensearch::signing::Signer;
use seclog_core::sink::opensearch::OpenSearchSink;
use seclog_e2e::{corpus, counts, expected, fast_config, run, server, total};
use serde_json::json;

const BUDGET: Duration = Duration::from_secs(60);

#[tokio::test]
async fn corpus_indexes_with_zero_item_errors_and_replays_idempotently() {
    let (server, client) = server().await;
    // SigV4 on, as in Lambda: osmem accepts the signature headers without verifying them.
    let creds = Credentials::new("AKIDEXAMPLE", "secret", Some("session-token".into()), None, "test");
    let signer = Signer::new(SharedCredentialsProvider::new(creds), SigningService::Es, "eu-west-1".into());
    let sink = OpenSearchSink::with_signer(fast_config(server.url()), Some(std::sync::Arc::new(signer))).unwrap();
    let dl = sink.deadletters().clone();
    let deps =
        Deps::new(sink, dl, FunctionConfig::default()).map_transformer(|t| t.with_enricher(seclog_testkit::enricher()));
    let want = expected(&[]);
    let events = corpus();

    let first = run(&deps, &events, BUDGET).await.unwrap();
    let received = total(&first, |s| s.received);
    assert_eq!(
        received,
        total(&first, |s| s.delivery.indexed + s.delivery.already_present + s.dropped + s.delivery.dead_lettered),
        "every record is accounted for exactly once"
    );
    assert_eq!(total(&first, |s| s.delivery.indexed), want.documents.len());
    assert_eq!(
        total(&first, |s| s.delivery.dead_lettered),
        want.dead_letters.len(),
        "only transform dead letters: zero item errors"
    );
    assert_eq!(total(&first, |s| s.delivery.retried), 0);
    assert_eq!(counts(&client).await, (want.documents.len() as u64, want.dead_letters.len() as u64));
    let item_errors = client
        .search("*-deadletter-*", &json!({"size": 0, "query": {"exists": {"field": "deadletter.status"}}}))
        .await
        .unwrap();
    assert_eq!(item_errors["hits"]["total"]["value"], 0, "no document was refused by the server");

    // Real trails (not hand-edited samples): one document per distinct eventID.
    let real = expected(&["stratus-red-team", "invictus-ir-01", "invictus-ir-02", "invictus-ir-03", "invictus-ir-04"]);
    assert_eq!(real.documents.len(), real.event_ids.len());

    let second = run(&deps, &events, BUDGET).await.unwrap();
    assert_eq!(total(&second, |s| s.delivery.indexed), 0, "a redelivery writes nothing new");
    assert_eq!(
        total(&second, |s| s.delivery.already_present),
        total(&first, |s| s.delivery.indexed + s.delivery.already_present)
    );
    assert_eq!(counts(&client).await, (want.documents.len() as u64, want.dead_letters.len() as u64));
}

#[tokio::test]
async fn the_demo_questions_are_answered_from_the_index() {
    let (server, client) = server().await;
    let deps = seclog_e2e::deps(fast_config(server.url()));
    run(&deps, &corpus(), BUDGET).await.unwrap();
    client.refresh().await.unwrap();
    let want = expected(&[]);

    let hours = questions::events_per_hour_of_day(&client, &Scope::all()).await.unwrap();
    assert_eq!(hours.iter().sum::<u64>(), want.documents.len() as u64);

    let top = questions::top_event_names(&client, &Scope::all(), 5).await.unwrap();
    assert_eq!(top.len(), 5);
    assert!(top.windows(2).all(|w| w[0].1 >= w[1].1), "sorted by count: {top:?}");

    let failed = questions::failed_console_logins(&client, &Scope::all()).await.unwrap();
    assert_eq!(failed.len(), want.failed_sign_ins.len());
    assert!(!failed.is_empty() && failed.iter().all(|s| s.outcome == "failure"));

    let allowed = ["92.55.146.0/24".to_owned(), "10.0.0.0/8".to_owned()];
    let outside = questions::console_logins_outside(&client, &Scope::all(), &allowed).await.unwrap();
    let everything = questions::console_logins_outside(&client, &Scope::all(), &[]).await.unwrap();
    assert!(!outside.is_empty());
    assert!(outside.iter().all(|s| !s.source.starts_with("92.55.146.")), "{outside:?}");
    assert!(everything.iter().any(|s| s.source.starts_with("92.55.146.")));
    assert!(outside.len() < everything.len());

    // From which countries: GeoIP enrichment, aggregated by the server.
    let mut countries: Vec<(String, u64, u64)> = want.countries.iter().map(|(c, (n, l))| (c.clone(), *n, *l)).collect();
    countries.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    assert_eq!(questions::call_countries(&client, &Scope::all(), 1000).await.unwrap(), countries);
    assert!(countries.iter().any(|(c, _, logins)| c == "KR" && *logins == 1), "{countries:?}");

    // `source.geo.location` is a geo_point: a bounding-box query and a map aggregation work.
    let mapping = client.call("GET", "cloudtrail-*/_mapping/field/source.geo.location", None).await.unwrap();
    assert!(mapping.to_string().contains("\"geo_point\""), "{mapping}");
    let in_australia =
        want.locations.iter().filter(|(lat, lon)| (-45.0..=-10.0).contains(lat) && (110.0..=160.0).contains(lon));
    let boxed = client
        .search(
            "cloudtrail-*",
            &json!({"size": 0, "query": {"geo_bounding_box": {"source.geo.location": {
            "top_left": {"lat": -10.0, "lon": 110.0}, "bottom_right": {"lat": -45.0, "lon": 160.0}}}}}),
        )
        .await
        .unwrap();
    assert_eq!(boxed["hits"]["total"]["value"], in_australia.count() as u64);
    let tiles = questions::call_map(&client, &Scope::all(), 1000).await.unwrap();
    assert_eq!(tiles.iter().map(|t| t.1).sum::<u64>(), want.locations.len() as u64);

    let pentest = questions::pentest_agents(&client, &Scope::all(), 10).await.unwrap();
    assert_eq!(pentest.len(), 1);
    assert_eq!(pentest[0][1..], ["minji", "121.134.0.1", "ListUsers", "Kali Linux"]);
}

#[tokio::test]
async fn undecodable_payloads_are_dead_lettered_with_their_reason() {
    let (server, client) = server().await;
    let deps = seclog_e2e::deps(fast_config(server.url()));
    // Just over the default 32 MiB cap.
    let bomb = seclog_core::decode::gzip_base64(&vec![b'{'; (32 << 20) + 1]);
    let cases = [
        ("%%% not base64 %%%".to_owned(), "bad_base64"),
        (seclog_core::decode::gzip_base64(b"").replace("H4sI", "AAAA"), "not_compressed"),
        (bomb, "too_large"),
        (seclog_core::decode::gzip_base64(br#"{"messageType":"DATA_MESSAGE","logEvents":[{"id":"1""#), "bad_json"),
    ];
    for (data, kind) in &cases {
        let event = CloudWatchLogsEvent { awslogs: AwsLogs { data: data.clone() } };
        let s = run(&deps, &[event.clone(), event], BUDGET).await.unwrap();
        assert_eq!(total(&s, |s| s.delivery.dead_lettered), 2, "{kind}");
        client.refresh().await.unwrap();
        let hits = client
            .search("*-deadletter-*", &json!({"query": {"term": {"deadletter.error_type": kind}}}))
            .await
            .unwrap();
        assert_eq!(hits["hits"]["total"]["value"], 1, "{kind}: one dead letter however often it is delivered");
    }
    assert_eq!(counts(&client).await, (0, cases.len() as u64));
}

#[tokio::test]
async fn with_the_deployed_window_event_times_far_from_now_create_no_index_and_are_dead_lettered() {
    let (server, client) = server().await;
    let config = FunctionConfig::from_env(&seclog_core::config::Env::from_lookup(|_| None)).unwrap();
    assert_eq!(config.index.window(), seclog_core::index::TimeWindow::default());
    let sink = OpenSearchSink::with_signer(fast_config(server.url()), None).unwrap();
    let dl = sink.deadletters().clone();
    let deps = Deps::new(sink, dl, config).map_transformer(|t| t.with_enricher(seclog_testkit::enricher()));
    let now = chrono::Utc::now();
    let record = |id: &str, time: chrono::DateTime<chrono::Utc>| {
        json!({"eventVersion": "1.08", "eventID": id, "eventTime": time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "eventSource": "iam.amazonaws.com", "eventName": "ListUsers", "awsRegion": "us-east-1",
            "sourceIPAddress": "198.51.100.7", "recipientAccountId": "123456789012",
            "userIdentity": {"type": "IAMUser", "userName": "minji"}})
        .to_string()
    };
    let messages = [
        record("now", now),
        record("next-month", now + chrono::TimeDelta::days(30)),
        record("in-2999", "2999-01-01T00:00:00Z".parse().unwrap()),
        record("two-years-ago", now - chrono::TimeDelta::days(730)),
        record("a-year-ago", now - chrono::TimeDelta::days(365)),
    ];
    let data = seclog_core::decode::gzip_base64(&seclog_testkit::invariants::logs_payload(&messages));
    let event = CloudWatchLogsEvent { awslogs: AwsLogs { data } };
    let s = run(&deps, &[event], BUDGET).await.unwrap();
    assert_eq!((total(&s, |s| s.delivery.indexed), total(&s, |s| s.delivery.dead_lettered)), (2, 3));

    client.refresh().await.unwrap();
    let indices = client.call("GET", "_cat/indices/cloudtrail-*?format=json&h=index", None).await.unwrap();
    let mut names: Vec<&str> = indices.as_array().unwrap().iter().map(|i| i["index"].as_str().unwrap()).collect();
    names.sort_unstable();
    let day = |t: chrono::DateTime<chrono::Utc>| format!("cloudtrail-{}", t.format("%Y.%m.%d"));
    let mut want = vec![day(now - chrono::TimeDelta::days(365)), day(now)];
    want.sort_unstable();
    assert_eq!(names, want, "no index for a day outside the window");
    let dead = client
        .search(
            "*-deadletter-*",
            &json!({"size": 10, "query": {"term": {"deadletter.error_type": "time_out_of_range"}}}),
        )
        .await
        .unwrap();
    assert_eq!(dead["hits"]["total"]["value"], 3);
    for hit in dead["hits"]["hits"].as_array().unwrap() {
        let raw = hit["_source"]["deadletter"]["raw"].as_str().unwrap();
        assert!(messages.iter().any(|m| m == raw), "the raw record is kept: {raw}");
    }
}
