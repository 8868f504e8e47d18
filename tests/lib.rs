//! Shared helpers of the end-to-end tests: a real `osmem-server` with the shipped templates, the
//! recorded `CloudTrail` corpus, and the counts its golden files promise.
#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

use std::collections::HashSet;
use std::time::Duration;

use seclog_cli::client::Client;
use seclog_cli::osmem::Server;
use seclog_cloudtrail::config::FunctionConfig;
use seclog_cloudtrail::handler::{process, Deps};
use seclog_core::envelope::cloudwatch_logs::CloudWatchLogsEvent;
use seclog_core::sink::opensearch::config::OpenSearchConfig;
use seclog_core::sink::opensearch::retry::Backoff;
use seclog_core::sink::opensearch::OpenSearchSink;
use seclog_core::telemetry::InvocationSummary;
use seclog_core::DeliveryError;
use seclog_testkit::golden::load;
use seclog_testkit::{inputs, sibling};

/// A fresh server with the templates installed.
pub async fn server() -> (Server, Client) {
    let server = Server::start().unwrap();
    let client = Client::new(OpenSearchConfig::local(server.url()).unwrap()).await.unwrap();
    seclog_cli::templates::install(&client, None).await.unwrap();
    (server, client)
}

/// Sink settings for `url` with fast retries (tests must not sleep for seconds).
pub fn fast_config(url: &str) -> OpenSearchConfig {
    let mut c = OpenSearchConfig::local(url).unwrap();
    c.backoff = Backoff { base: Duration::from_millis(10), max: Duration::from_millis(100), max_attempts: 10 };
    c.request_timeout = Duration::from_secs(5);
    c
}

/// Handler dependencies around the real sink.
pub fn deps(config: OpenSearchConfig) -> Deps<OpenSearchSink> {
    let sink = OpenSearchSink::with_signer(config, None).unwrap();
    let dl = sink.deadletters().clone();
    Deps::new(sink, dl, FunctionConfig::default())
        .map_transformer(|t| t.with_enricher(seclog_testkit::enricher()).with_rules(seclog_testkit::rules()))
}

/// One recorded event by fixture name.
pub fn event(name: &str) -> CloudWatchLogsEvent {
    load(&seclog_testkit::fixtures("cloudtrail").join(format!("{name}.input.json")))
}

/// Every recorded `CloudTrail` event.
pub fn corpus() -> Vec<CloudWatchLogsEvent> {
    inputs("cloudtrail").iter().map(|p| load(p)).collect()
}

/// What the golden files say a fixture must produce.
#[derive(Debug, Default)]
pub struct Expected {
    /// Distinct `index/id` pairs in the `CloudTrail` indices (hand-edited samples reuse an
    /// `eventID` on other days, which are other daily indices).
    pub documents: HashSet<String>,
    /// Distinct `eventID`s (document ids).
    pub event_ids: HashSet<String>,
    /// Distinct dead-letter ids.
    pub dead_letters: HashSet<String>,
    /// Distinct `index/id` pairs of failed console sign-ins.
    pub failed_sign_ins: HashSet<String>,
    /// Documents per `GeoIP` country: `(calls, console sign-ins)`.
    pub countries: std::collections::BTreeMap<String, (u64, u64)>,
    /// `source.geo.location` of every document that has one: `(lat, lon)`.
    pub locations: Vec<(f64, f64)>,
    /// Items sent per index (redeliveries included), indices in the order they first appear: the
    /// sink sends one index per request.
    pub items_per_index: Vec<(String, usize)>,
}

/// Reads the golden files of the named fixtures (all of them when `names` is empty).
pub fn expected(names: &[&str]) -> Expected {
    let mut e = Expected::default();
    for input in inputs("cloudtrail") {
        let name = input.file_name().unwrap().to_string_lossy().replace(".input.json", "");
        if !names.is_empty() && !names.contains(&name.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(sibling(&input, ".expected.ndjson")).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for pair in lines.chunks(2) {
            let action: serde_json::Value = serde_json::from_str(pair[0]).unwrap();
            let doc: serde_json::Value = serde_json::from_str(pair[1]).unwrap();
            let meta = &action["create"];
            let id = meta["_id"].as_str().unwrap().to_owned();
            let index = meta["_index"].as_str().unwrap();
            match e.items_per_index.iter_mut().find(|(i, _)| i == index) {
                Some((_, n)) => *n += 1,
                None => e.items_per_index.push((index.to_owned(), 1)),
            }
            if meta["_index"].as_str().unwrap().contains("-deadletter-") {
                e.dead_letters.insert(id);
            } else {
                // `create`: the first document written under an index/id is the one kept.
                let key = format!("{}/{id}", meta["_index"].as_str().unwrap());
                let first = !e.documents.contains(&key);
                if first && doc["eventName"] == "ConsoleLogin" && doc["event"]["outcome"] == "failure" {
                    e.failed_sign_ins.insert(key.clone());
                }
                let geo = &doc["source"]["geo"];
                if let (true, Some(country)) = (first, geo["country_iso_code"].as_str()) {
                    let c = e.countries.entry(country.to_owned()).or_default();
                    c.0 += 1;
                    c.1 += u64::from(doc["eventName"] == "ConsoleLogin");
                }
                if let (true, Some(lat), Some(lon)) =
                    (first, geo["location"]["lat"].as_f64(), geo["location"]["lon"].as_f64())
                {
                    e.locations.push((lat, lon));
                }
                e.documents.insert(key);
                e.event_ids.insert(id);
            }
        }
    }
    e
}

/// Runs events through the handler with a time budget; the first error stops the run.
pub async fn run(
    deps: &Deps<OpenSearchSink>,
    events: &[CloudWatchLogsEvent],
    budget: Duration,
) -> Result<Vec<InvocationSummary>, DeliveryError> {
    let mut out = Vec::new();
    for e in events {
        out.push(process(e, deps, tokio::time::Instant::now() + budget).await?);
    }
    Ok(out)
}

/// `(documents in cloudtrail-*, documents in the dead-letter index)` after a refresh.
pub async fn counts(client: &Client) -> (u64, u64) {
    client.refresh().await.unwrap();
    (client.count("cloudtrail-*").await.unwrap(), client.count("*-deadletter-*").await.unwrap())
}

/// Sums a field over summaries.
pub fn total(summaries: &[InvocationSummary], f: impl Fn(&InvocationSummary) -> usize) -> usize {
    summaries.iter().map(f).sum()
}

/// Replay options as the functions run: the pinned enrichment data, the bundled rules, 30 s per
/// invocation.
pub fn options() -> seclog_cli::replay::Options<'static> {
    seclog_cli::replay::Options {
        budget: Duration::from_secs(30),
        rules: seclog_testkit::rules(),
        ..seclog_cli::replay::Options::new(seclog_testkit::enricher())
    }
}

/// `(Ok documents, ProcessingFailed records)` the Firehose goldens of `source` promise (inputs
/// without a `.expected.json` response are not Firehose requests and are left out). Every record
/// the fixtures re-ingest is a valid log, so each adds one document when Firehose's part is played.
pub fn promised(source: &str) -> (u64, u64) {
    let (mut docs, mut failed) = (0, 0);
    for input in inputs(source) {
        let Ok(bytes) = std::fs::read(sibling(&input, ".expected.json")) else { continue };
        let response: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
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

/// Every document the Firehose fixtures of `source` produce: the goldens' documents, and the
/// re-ingested records transformed by the same transform (as Firehose's next invocation would).
pub fn documents(
    source: &str,
    transform: &dyn Fn(&[u8]) -> seclog_core::firehose::Transformed,
) -> Vec<serde_json::Value> {
    let mut docs = Vec::new();
    for input in inputs(source) {
        let Ok(text) = std::fs::read_to_string(sibling(&input, ".documents.ndjson")) else { continue };
        docs.extend(text.lines().map(|l| serde_json::from_str(l).unwrap()));
        if let Ok(text) = std::fs::read_to_string(sibling(&input, ".reingested.ndjson")) {
            for line in text.lines() {
                let record: String = serde_json::from_str(line).unwrap();
                let seclog_core::firehose::Transformed::Document { body, .. } = transform(record.as_bytes()) else {
                    panic!("{record}")
                };
                docs.push(serde_json::from_slice(&body).unwrap());
            }
        }
    }
    docs
}

/// `(key, count)` sorted as a terms aggregation sorts: count descending, then key.
pub fn terms<'a>(keys: impl Iterator<Item = &'a serde_json::Value>) -> Vec<(String, u64)> {
    let mut counts: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
    for k in keys.filter_map(serde_json::Value::as_str) {
        *counts.entry(k.to_owned()).or_default() += 1;
    }
    let mut v: Vec<_> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

/// A Firehose client on `url` (moto, or a proxy in front of it), with `stream` delivering to the
/// moto S3 `bucket` (created here).
/// AWS SDK settings for a local moto server (test credentials, us-east-1).
pub async fn moto_sdk(url: &str) -> aws_config::SdkConfig {
    use aws_credential_types::provider::SharedCredentialsProvider;
    use aws_credential_types::Credentials;
    let creds = Credentials::new("AKIDTEST", "secret", None, None, "test");
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(seclog_core::lambda::https_client())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(url)
        .credentials_provider(SharedCredentialsProvider::new(creds))
        .load()
        .await
}

/// An S3 client on a moto SDK configuration ([`moto_sdk`]): path-style, as moto serves buckets.
pub fn moto_s3(sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(sdk).force_path_style(true).build())
}

/// Lambda's SQS event of `(message id, body)` messages received from the queue `queue_arn`, as
/// the runtime hands it to a function.
pub fn sqs_event<'a>(messages: impl IntoIterator<Item = (&'a str, &'a str)>, queue_arn: &str) -> Vec<u8> {
    let records: Vec<serde_json::Value> = messages
        .into_iter()
        .map(|(id, body)| {
            serde_json::json!({
                "messageId": id, "receiptHandle": "handle", "body": body, "attributes": {},
                "messageAttributes": {}, "eventSource": "aws:sqs", "awsRegion": "us-east-1",
                "eventSourceARN": queue_arn,
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({ "Records": records })).unwrap()
}

/// A moto bucket `logs` that notifies the queue `seclog-s3` of each object created, holding every
/// object of `fixtures/s3`: the clients, the queue's URL and the notifications waiting on it.
pub struct NotifiedFixtures {
    /// S3, path-style (moto).
    pub s3: aws_sdk_s3::Client,
    /// SQS.
    pub sqs: aws_sdk_sqs::Client,
    /// The queue's URL.
    pub queue: String,
    /// What the queue holds, as Lambda's SQS event (S3's test event included).
    pub event: seclog_s3::handler::SqsEvent,
}

/// Puts `fixtures/s3` into a notifying bucket on the moto at `url`.
pub async fn notified_fixtures(url: &str) -> NotifiedFixtures {
    use aws_sdk_s3::types::{Event, NotificationConfiguration, QueueConfiguration};
    let sdk = moto_sdk(url).await;
    let (s3, sqs) = (moto_s3(&sdk), aws_sdk_sqs::Client::new(&sdk));
    let queue = sqs.create_queue().queue_name("seclog-s3").send().await.unwrap().queue_url.unwrap();
    s3.create_bucket().bucket("logs").send().await.unwrap();
    let notify = QueueConfiguration::builder()
        .queue_arn("arn:aws:sqs:us-east-1:123456789012:seclog-s3")
        .events(Event::S3ObjectCreated)
        .build()
        .unwrap();
    let config = NotificationConfiguration::builder().queue_configurations(notify).build();
    s3.put_bucket_notification_configuration().bucket("logs").notification_configuration(config).send().await.unwrap();
    assert_eq!(put_s3_fixtures(&s3, "logs").await, 7);
    let event = drain(&sqs, &queue).await;
    NotifiedFixtures { s3, sqs, queue, event }
}

/// Every object of `fixtures/s3` put into one moto bucket under its key.
pub async fn put_s3_fixtures(s3: &aws_sdk_s3::Client, bucket: &str) -> usize {
    let root = seclog_testkit::fixtures("s3");
    let files = seclog_cli::replay::discover(std::slice::from_ref(&root)).unwrap();
    for file in &files {
        let relative = file.strip_prefix(&root).unwrap().to_str().unwrap();
        let key = &relative[relative.find("AWSLogs/").unwrap()..];
        let body = aws_sdk_s3::primitives::ByteStream::from(std::fs::read(file).unwrap());
        s3.put_object().bucket(bucket).key(key).body(body).send().await.unwrap();
    }
    files.len()
}

/// Everything on the queue, as Lambda's SQS event (messages stay invisible for 60 s).
pub async fn drain(sqs: &aws_sdk_sqs::Client, url: &str) -> seclog_s3::handler::SqsEvent {
    let mut records = Vec::new();
    loop {
        let got = sqs.receive_message().queue_url(url).max_number_of_messages(10).visibility_timeout(60).send().await;
        let messages = got.unwrap().messages.unwrap_or_default();
        if messages.is_empty() {
            break;
        }
        for m in messages {
            records.push(seclog_s3::handler::SqsMessage {
                message_id: m.message_id.unwrap_or_default(),
                body: m.body.unwrap_or_default(),
            });
        }
    }
    seclog_s3::handler::SqsEvent { records }
}

pub async fn firehose_to_s3(
    url: &str,
    moto: &seclog_testkit::moto::Moto,
    stream: &str,
    bucket: &str,
) -> aws_sdk_firehose::Client {
    use aws_sdk_firehose::types::ExtendedS3DestinationConfiguration;
    reqwest::Client::new().put(format!("{}/{bucket}", moto.url())).send().await.unwrap().error_for_status().unwrap();
    let sdk = moto_sdk(url).await;
    let client = aws_sdk_firehose::Client::new(&sdk);
    let s3 = ExtendedS3DestinationConfiguration::builder()
        .role_arn("arn:aws:iam::123456789012:role/firehose-delivery")
        .bucket_arn(format!("arn:aws:s3:::{bucket}"))
        .build()
        .unwrap();
    let create =
        client.create_delivery_stream().delivery_stream_name(stream).extended_s3_destination_configuration(s3).send();
    Box::pin(create).await.unwrap();
    client
}

/// moto's S3 routes an object read by the credential scope of its (unverified) signature.
const S3_AUTH: &str =
    "AWS4-HMAC-SHA256 Credential=AKIDTEST/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0";

/// Everything moto's S3 holds in `bucket`: the objects' contents, in key order (keys of the same
/// second are ordered by a random suffix, so callers compare contents, not order).
pub async fn s3_objects(moto: &seclog_testkit::moto::Moto, bucket: &str) -> String {
    let http = reqwest::Client::new();
    let listing = http.get(format!("{}/{bucket}?list-type=2&max-keys=1000", moto.url())).send().await.unwrap();
    let listing = listing.text().await.unwrap();
    let mut keys: Vec<&str> = listing.split("<Key>").skip(1).map(|k| k.split("</Key>").next().unwrap()).collect();
    keys.sort_unstable();
    let mut out = String::new();
    for key in keys {
        let object = http.get(format!("{}/{bucket}/{key}", moto.url())).header("authorization", S3_AUTH).send().await;
        out.push_str(&object.unwrap().error_for_status().unwrap().text().await.unwrap());
    }
    out
}

/// `seclog replay` of the recorded fixtures of `sources` (`fixtures/<source>`) into the cluster at
/// `url`, as often as [`FixtureReplay::run`] is called, through one sink.
pub struct FixtureReplay {
    files: Vec<std::path::PathBuf>,
    options: seclog_cli::replay::Options<'static>,
    sink: Option<OpenSearchSink>,
    deadletters: seclog_core::deadletter::DeadLetters,
}

impl FixtureReplay {
    /// The fixtures of `sources`, each file read as `source` when given (else detected).
    pub fn new(url: &str, sources: &[&str], source: Option<seclog_cli::replay::Source>) -> Self {
        let sink = OpenSearchSink::with_signer(fast_config(url), None).unwrap();
        let deadletters = sink.deadletters().clone();
        let folders: Vec<_> = sources.iter().map(|s| seclog_testkit::fixtures(s)).collect();
        let files = seclog_cli::replay::discover(&folders).unwrap();
        Self { files, options: seclog_cli::replay::Options { source, ..options() }, sink: Some(sink), deadletters }
    }

    /// One replay of every file: its report.
    pub async fn run(&mut self) -> seclog_cli::replay::Report {
        let sink = self.sink.take().unwrap();
        let deadletters = self.deadletters.clone();
        let (report, sink) =
            seclog_cli::replay::replay(&self.files, &self.options, sink, deadletters, |_, _, _| {}).await.unwrap();
        self.sink = Some(sink);
        report
    }

    /// [`Self::run`], which must fail nothing and skip no file.
    pub async fn run_clean(&mut self) -> seclog_cli::replay::Report {
        let report = self.run().await;
        assert!(!report.failed() && report.skipped.is_empty(), "{:?} {:?}", report.sources, report.skipped);
        report
    }
}

/// A failed console sign-in as the cloudtrail function marks it.
pub fn failed_sign_in(id: String, at: &str, ip: &str, ingested: &str) -> seclog_core::document::Document<'static> {
    use seclog_core::document::{Document, Origin, WriteOp};
    let body = serde_json::json!({"@timestamp": at, "event": {"action": "ConsoleLogin", "ingested": ingested},
        "eventName": "ConsoleLogin", "sourceIPAddress": ip, "source": {"ip": ip}, "errorMessage": "Failed authentication",
        "detection": {"rule_ids": [seclog_rules::ids::SIGN_IN_FAILED], "level": "low"}});
    let origin = Origin { dataset: "aws.cloudtrail", record_id: id.clone().into(), raw: "".into() };
    Document::new(
        format!("cloudtrail-{}", at[..10].replace('-', ".")),
        id,
        WriteOp::Create,
        body.to_string().into_bytes(),
        origin,
    )
}
