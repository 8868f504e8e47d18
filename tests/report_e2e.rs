//! `seclog report` as a person would look at it: the fixtures indexed into osmem-server, the
//! alerter run once, the report drawn; its structure (section titles, every number and label)
//! compared with a golden, then rendered by headless Chromium (Debian's, unpacked into .tools/ by
//! scripts/setup) into a PNG in which each chart and the map are found; a hostile report renders
//! without running anything.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use seclog_cli::questions::Scope;
use seclog_cli::report::{self, Options, Report};
use seclog_testkit::golden::assert_golden;

const WIDTH: u32 = 1000;
const HEIGHT: u32 = 12_000;

fn chromium() -> PathBuf {
    let path = seclog_testkit::workspace_root().join(".tools/chromium/run");
    assert!(path.exists(), "{} is missing: run scripts/setup", path.display());
    path
}

/// Chromium, headless, on a local file: without the background-networking flags it tries to
/// reach Google's hosts, which this machine refuses.
fn chromium_on(page: &Path, dir: &Path, action: &[&str]) -> std::process::Output {
    let output = Command::new(chromium())
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"])
        .args(["--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .args(action)
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(output.status.success(), "chromium: {}", String::from_utf8_lossy(&output.stderr));
    output
}

/// The text of every heading, caption, table cell, paragraph and `<title>` (the page's and each
/// chart mark's), in document order: what a reader sees, without the drawing's coordinates.
fn structure(html: &str) -> String {
    const TAGS: [&str; 9] = ["title", "h1", "h2", "h3", "caption", "figcaption", "p", "th", "td"];
    let mut out = String::new();
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        let name: String = rest.chars().take_while(char::is_ascii_alphanumeric).collect();
        if !TAGS.contains(&name.as_str()) {
            continue;
        }
        let open_end = rest.find('>').unwrap() + 1;
        let close = format!("</{name}>");
        let end = rest[open_end..].find(&close).unwrap() + open_end;
        let _ = writeln!(out, "{name}: {}", &rest[open_end..end]);
        rest = &rest[end..];
    }
    out
}

fn row(pixels: &[[u8; 3]], y: u32) -> &[[u8; 3]] {
    &pixels[(y * WIDTH) as usize..((y + 1) * WIDTH) as usize]
}

/// Bands of rows holding `colour` (exactly: the inside of a bar), separated by `gap` rows
/// without it: `(first row, last row)`.
fn bands(pixels: &[[u8; 3]], colour: [u8; 3], gap: u32) -> Vec<(u32, u32)> {
    let mut bands: Vec<(u32, u32)> = Vec::new();
    for y in 0..HEIGHT {
        if row(pixels, y).iter().filter(|p| **p == colour).count() < 3 {
            continue;
        }
        match bands.last_mut() {
            Some(last) if y - last.1 <= gap => last.1 = y,
            _ => bands.push((y, y)),
        }
    }
    bands
}

#[tokio::test]
async fn the_fixtures_report_has_every_section_and_renders_each_chart_and_the_map() {
    let (server, client) = seclog_e2e::server().await;
    let config = seclog_e2e::fast_config(server.url());
    let allowed = vec!["10.0.0.0/8".to_owned(), "172.16.0.0/12".to_owned(), "192.168.0.0/16".to_owned()];
    let fixtures = seclog_testkit::workspace_root().join("fixtures");
    let (_, _, rules) =
        seclog_cli::demo::index_fixtures(&client, &fixtures, &allowed, seclog_testkit::enricher()).await.unwrap();
    let now = chrono::DateTime::parse_from_rfc3339(seclog_cli::detect::ALERTS_AT).unwrap().to_utc();
    let run =
        seclog_cli::detect::run(config, seclog_detect::config::DetectConfig::default(), rules, now).await.unwrap();
    assert_eq!(run.raised.len(), 12);
    client.refresh().await.unwrap();

    let options = Options { scope: Scope::all(), allowed, cluster: "https://search-logs.example:443/".to_owned() };
    let report = report::gather(&client, &options).await.unwrap();
    let html = report::render(&report).unwrap();
    assert_golden(&fixtures.join("report/structure.golden.txt"), structure(&html).as_bytes());
    for fetch in ["<script", "<link", "src=", "href=", "url(", "@import"] {
        assert!(!html.contains(fetch), "self-contained: the page holds `{fetch}`");
    }

    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    std::fs::write(&page, &html).unwrap();
    let shot = dir.path().join("report.png");
    chromium_on(
        &page,
        dir.path(),
        &[&format!("--window-size={WIDTH},{HEIGHT}"), &format!("--screenshot={}", shot.display())],
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    assert_eq!((info.width, info.height), (WIDTH, HEIGHT));
    let channels = info.color_type.samples();
    let pixels: Vec<[u8; 3]> = pixels[..info.buffer_size()].chunks(channels).map(|p| [p[0], p[1], p[2]]).collect();
    // The bars' colour, in as many separate regions as the fixtures have bar charts: hours, days,
    // event names, WAF rules and countries, talkers, domains, findings, alerts.
    let charts = bands(&pixels, [0x1F, 0x4E, 0x8C], 40);
    assert_eq!(charts.len(), 9, "{charts:?}");
    assert!(charts.iter().all(|(a, b)| b - a >= 60), "each chart is drawn at full height: {charts:?}");
    // The map: its sea, one region of at least 380 rows, holding the callers' points.
    let sea = bands(&pixels, [0xEE, 0xF3, 0xF8], 2);
    let map = sea.iter().find(|(a, b)| b - a >= 380).expect("the map is drawn");
    let points =
        (map.0..map.1).flat_map(|y| row(&pixels, y)).filter(|p| p[0] > 0xC0 && p[1] < 0x90 && p[2] < 0x90).count();
    assert!(points > 2_000, "the callers' points are red on the map: {points} pixels");
    // The whole page fitted: its last rows are blank.
    let last = &pixels[((HEIGHT - 200) * WIDTH) as usize..];
    assert!(last.iter().all(|p| *p == [0xFF; 3]), "the report is taller than the screenshot");
}

#[tokio::test]
async fn a_report_of_hostile_values_runs_nothing_and_keeps_its_sections() {
    let hostile = "<script>document.title='owned'</script><img src=x onerror=\"document.title='owned'\">";
    let report = Report::every_string(hostile);
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("hostile.html");
    std::fs::write(&page, report::render(&report).unwrap()).unwrap();
    let dom = String::from_utf8(chromium_on(&page, dir.path(), &["--dump-dom"]).stdout).unwrap();
    assert!(dom.contains("<title>Security report: all documents</title>"), "no value ran: {dom:.300}");
    assert!(!dom.contains("<script") && !dom.contains("<img"), "no element from a value");
    assert_eq!(dom.matches("<section ").count(), 9);
    assert!(dom.matches("&lt;script&gt;document.title='owned'&lt;/script&gt;").count() > 30, "shown as text");
}

/// What `seclog dashboards install` sends for one index pattern.
fn expected_request(base: &str, id: &str, title: &str) -> (String, String, serde_json::Value) {
    (
        "POST".to_owned(),
        format!("{base}/api/saved_objects/index-pattern/{id}?overwrite=true"),
        serde_json::json!({"attributes": {"title": title, "timeFieldName": "@timestamp"}}),
    )
}

#[tokio::test]
async fn dashboards_install_writes_one_index_pattern_per_family_with_the_xsrf_header_twice_the_same() {
    use seclog_cli::receiver::Receiver;
    let receiver = Receiver::start([]).await.unwrap();
    let config = seclog_core::sink::opensearch::config::OpenSearchConfig::local(&receiver.url("_dashboards")).unwrap();
    let client = seclog_cli::client::Client::new(seclog_cli::dashboards::base(config)).await.unwrap();
    let first = seclog_cli::dashboards::install(&client).await.unwrap();
    let second = seclog_cli::dashboards::install(&client).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(first.len(), 9);
    let requests = receiver.requests();
    assert_eq!(requests.len(), 18, "each install writes each pattern once");
    let (once, again) = requests.split_at(9);
    for (got, title) in once.iter().zip(&first) {
        let id = format!("seclog-{}", title.trim_start_matches("*-").trim_end_matches("-*"));
        assert_eq!(
            (got.method.clone(), got.target.clone(), got.body.clone()),
            expected_request("/_dashboards", &id, title)
        );
        assert_eq!(got.header("osd-xsrf"), Some("true"));
        assert_eq!(got.header("content-type"), Some("application/json"));
    }
    assert_eq!(
        once.iter().map(|r| (&r.target, &r.body)).collect::<Vec<_>>(),
        again.iter().map(|r| (&r.target, &r.body)).collect::<Vec<_>>(),
        "the same ids, overwritten: a second install changes nothing"
    );
}

#[tokio::test]
async fn dashboards_install_is_signed_for_es_and_stops_at_a_refusal_naming_the_pattern() {
    use aws_credential_types::provider::SharedCredentialsProvider;
    use aws_credential_types::Credentials;
    use seclog_cli::receiver::{Answer, Receiver};
    use seclog_core::sink::opensearch::config::SigningService;
    use seclog_core::sink::opensearch::signing::Signer;

    let receiver = Receiver::start([Answer::Accept, Answer::Status(403)]).await.unwrap();
    let config = seclog_core::sink::opensearch::config::OpenSearchConfig::local(&receiver.url("_dashboards")).unwrap();
    let provider = SharedCredentialsProvider::new(Credentials::new("AKIDEXAMPLE", "secret", None, None, "test"));
    let signer = Signer::new(provider, SigningService::Es, "eu-west-1".into());
    let client = seclog_cli::client::Client::with_signer(
        seclog_cli::dashboards::base(config),
        Some(std::sync::Arc::new(signer)),
    )
    .unwrap();
    let err = seclog_cli::dashboards::install(&client).await.unwrap_err();
    assert!(
        format!("{err:#}")
            .starts_with("index pattern waf-*: POST api/saved_objects/index-pattern/seclog-waf?overwrite=true: 403"),
        "{err:#}"
    );
    let [first] = receiver.requests().try_into().unwrap();
    let auth = first.header("authorization").unwrap();
    assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"), "{auth}");
    assert!(auth.contains("/eu-west-1/es/aws4_request"), "{auth}");
    assert!(auth.contains("osd-xsrf"), "the xsrf header is signed: {auth}");
}
