//! The real function binaries under cargo-lambda's runtime emulator (`cargo lambda watch
//! --only-lambda-apis`, pinned into `.tools/lambda` by `scripts/setup`), as Lambda runs them: the
//! binary is started with the runtime API's address in its environment, initialises, and polls
//! for its first event.
//!
//! Between the function and the emulator sits a relay that notes when the first request arrives:
//! the time from process start to that `GET …/runtime/invocation/next` is the function's init
//! (cold start) time. Invocations go to the emulator's invoke API like `cargo lambda invoke`.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use std::sync::{Arc, Mutex};

use anyhow::{bail, Context as _};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// The emulator's default function: the one a process serves when it says no other name.
const FUNCTION: &str = "_";

/// A running `cargo lambda watch --only-lambda-apis`; stopped on drop.
#[derive(Debug)]
pub struct Emulator {
    child: Child,
    addr: SocketAddr,
}

impl Emulator {
    /// Starts the emulator on a free loopback port and waits until it accepts connections.
    pub fn start() -> anyhow::Result<Self> {
        let tools = crate::workspace_root().join(".tools/lambda");
        let program = tools.join("bin/cargo-lambda");
        if !program.exists() {
            bail!("{} is missing: run scripts/setup", program.display());
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new(&program)
            .args(["lambda", "watch", "--only-lambda-apis", "-A", "127.0.0.1", "-P", &port.to_string()])
            .current_dir(crate::workspace_root())
            .env("PYTHONPATH", &tools)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", program.display()))?;
        let mut emulator = Self { child, addr: SocketAddr::from(([127, 0, 0, 1], port)) };
        let started = Instant::now();
        while TcpStream::connect(emulator.addr).is_err() {
            if let Some(status) = emulator.child.try_wait()? {
                bail!("the emulator exited with {status}");
            }
            if started.elapsed() > Duration::from_secs(60) {
                bail!("the emulator did not listen within 60 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(emulator)
    }

    /// Invokes the running function with `event` as `cargo lambda invoke` does: the HTTP status
    /// and body of the answer (the function's response, or its error).
    pub async fn invoke(&self, event: &[u8]) -> anyhow::Result<(u16, Vec<u8>)> {
        let url = format!("http://{}/2015-03-31/functions/{FUNCTION}/invocations", self.addr);
        let response =
            reqwest::Client::new().post(url).body(event.to_vec()).timeout(Duration::from_secs(120)).send().await?;
        Ok((response.status().as_u16(), response.bytes().await?.to_vec()))
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What every function gets here beside Lambda's own variables: the local `OpenSearch` and
/// Firehose endpoints, test credentials (signed, never verified), the pinned enrichment data and
/// no limit on event age; no request reaches AWS.
pub fn environment(opensearch: &str, firehose: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", "AKIDTEST".into()),
        ("AWS_SECRET_ACCESS_KEY", "secret".into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ("AWS_ENDPOINT_URL_FIREHOSE", firehose.into()),
        ("OPENSEARCH_ENDPOINT", opensearch.into()),
        ("ENRICH_DATA_DIR", crate::enrichment_dir().to_string_lossy().into_owned()),
        // The recorded logs are years old: with the deployed window (400 days back) every one
        // would be dead-lettered `time_out_of_range`.
        ("MAX_EVENT_AGE_DAYS", "none".into()),
    ]
}

/// A function binary of the workspace: `<target>/<profile>/<name>`.
pub fn binary(profile: &str, name: &str) -> anyhow::Result<PathBuf> {
    let path = crate::target_dir().join(profile).join(name);
    if !path.exists() {
        bail!(
            "{} is missing: build it first (cargo build --bins, or cargo test --workspace --all-targets)",
            path.display()
        );
    }
    Ok(path)
}

/// One running function process.
#[derive(Debug)]
pub struct Instance {
    child: Child,
    /// From process start to its first request to the runtime API.
    pub init: Duration,
    logs: (PathBuf, PathBuf),
}

impl Instance {
    /// Starts `binary` with `env` (beside the variables Lambda sets) against `emulator`, and waits
    /// until it asks for its first event.
    pub async fn start(emulator: &Emulator, binary: &Path, env: &[(&str, String)]) -> anyhow::Result<Self> {
        let relay_listener = TcpListener::bind("127.0.0.1:0").await?;
        let runtime_api = format!("http://{}/.rt", relay_listener.local_addr()?);
        let logs = log_files(binary)?;
        let mut command = Command::new(binary);
        command
            .env("AWS_LAMBDA_RUNTIME_API", runtime_api)
            .env("AWS_LAMBDA_FUNCTION_NAME", FUNCTION)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&logs.0)?)
            .stderr(std::fs::File::create(&logs.1)?);
        let (first_tx, first_rx) = tokio::sync::oneshot::channel();
        tokio::spawn(relay(relay_listener, emulator.addr, first_tx));
        let started = Instant::now();
        let mut child = command.spawn().with_context(|| format!("starting {}", binary.display()))?;
        let Ok(Ok((at, path))) = tokio::time::timeout(Duration::from_secs(30), first_rx).await else {
            let _ = child.kill();
            bail!("{} did not poll the runtime API within 30 s: {}", binary.display(), read(&logs.1));
        };
        let init = at.duration_since(started);
        if !path.ends_with("/runtime/invocation/next") {
            bail!("the first request was not a poll for the next event: {path}");
        }
        Ok(Self { child, init, logs })
    }

    /// The peak resident memory of the process so far (`VmHWM`), in KiB.
    pub fn peak_rss_kib(&self) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:")).context("no VmHWM")?;
        Ok(line.split_whitespace().nth(1).context("VmHWM")?.parse()?)
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Stops the process; what it printed to stdout and stderr.
    pub fn stop(mut self) -> (String, String) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        (read(&self.logs.0), read(&self.logs.1))
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Forwards the runtime API between one function process and the emulator, sending the time and
/// path of the first request to `first`.
///
/// The emulator's `Lambda-Runtime-Deadline-Ms` is the function's timeout (600000), not the
/// absolute deadline in epoch milliseconds that Lambda sends, which the functions would read as a
/// deadline long past; the relay plays Lambda's part and sends now + that timeout.
async fn relay(listener: TcpListener, upstream: SocketAddr, first: tokio::sync::oneshot::Sender<(Instant, String)>) {
    let first = Arc::new(Mutex::new(Some(first)));
    let client = reqwest::Client::new();
    while let Ok((stream, _)) = listener.accept().await {
        let (first, client) = (first.clone(), client.clone());
        tokio::spawn(async move {
            let service = service_fn(move |req| forward(req, upstream, client.clone(), first.clone()));
            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

type First = Arc<Mutex<Option<tokio::sync::oneshot::Sender<(Instant, String)>>>>;

async fn forward(
    req: Request<Incoming>,
    upstream: SocketAddr,
    client: reqwest::Client,
    first: First,
) -> Result<Response<Full<Bytes>>, reqwest::Error> {
    if let Some(tx) = first.lock().unwrap().take() {
        let _ = tx.send((Instant::now(), req.uri().path().to_owned()));
    }
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map(http_body_util::Collected::to_bytes).unwrap_or_default();
    let path = parts.uri.path_and_query().map_or("/", http::uri::PathAndQuery::as_str);
    let mut headers = parts.headers;
    headers.remove(http::header::HOST);
    let answer =
        client.request(parts.method, format!("http://{upstream}{path}")).headers(headers).body(body).send().await?;
    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        let value = match value.to_str().ok().and_then(|v| v.parse::<u64>().ok()) {
            Some(timeout) if name == "lambda-runtime-deadline-ms" && timeout < 1_000_000_000_000 => {
                let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
                http::HeaderValue::from(u64::try_from(now.as_millis()).unwrap_or(u64::MAX).saturating_add(timeout))
            }
            _ => value.clone(),
        };
        response = response.header(name, value);
    }
    Ok(response.body(Full::new(answer.bytes().await?)).unwrap_or_default())
}

/// Where an instance's output goes: `<target>/emulator/<binary>-<pid>-<n>.{stdout,stderr}`.
fn log_files(binary: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let dir = crate::target_dir().join("emulator");
    std::fs::create_dir_all(&dir)?;
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = binary.file_name().context("binary name")?.to_string_lossy();
    let stem = format!("{name}-{}-{n}", std::process::id());
    Ok((dir.join(format!("{stem}.stdout")), dir.join(format!("{stem}.stderr"))))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}
