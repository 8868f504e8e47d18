//! A fault-injecting HTTP proxy in front of a real server.
//!
//! osmem never answers 429 and never fails part of a bulk request; this proxy does, on a script:
//! each request takes the next [`Fault`] from the plan (or is forwarded untouched once the plan is
//! empty). Partial bulk failures forward only the surviving items to the real server and merge its
//! answer with injected item errors, so what the server holds is exactly what was acknowledged.

use std::collections::VecDeque;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpListener;

/// What to do with one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer this status with an OpenSearch-shaped error, without forwarding.
    Status(u16),
    /// Wait, then forward (longer than the client's timeout: a timeout).
    Delay(Duration),
    /// Close the connection without answering (a reset).
    Reset,
    /// Forward the bulk request but fail every `every`-th item (0, every, 2·every, …) with `status`.
    PartialBulk {
        /// Fail one item in this many.
        every: usize,
        /// The item status to inject.
        status: u16,
    },
    /// Like [`Fault::PartialBulk`], with the item error's `type` chosen (a write block,
    /// `index_closed_exception`, `security_exception`, …).
    ItemError {
        /// Fail one item in this many.
        every: usize,
        /// The item status to inject.
        status: u16,
        /// The item error's `type`.
        error_type: String,
    },
    /// Answer this status and JSON body without forwarding (canned AWS API answers, such as a
    /// `PutRecordBatch` that reports some records failed).
    Respond {
        /// The HTTP status.
        status: u16,
        /// The body.
        body: String,
    },
}

/// What the proxy saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests received.
    pub requests: usize,
    /// Faults injected.
    pub faults: usize,
    /// Bulk items failed by injection.
    pub items_failed: usize,
    /// The `authorization` header of the last request (for signing tests).
    pub last_authorization: Option<String>,
    /// Every request body, in order.
    pub bodies: Vec<Bytes>,
    /// Every request's method and path, in order (`POST /cloudtrail-2024.01.01/_bulk`).
    pub requests_seen: Vec<String>,
}

#[derive(Debug, Default)]
struct State {
    plan: VecDeque<Fault>,
    stats: Stats,
    /// Not keeping request bodies (long soaks).
    forget_bodies: bool,
}

/// A running proxy; it stops when dropped.
#[derive(Debug)]
pub struct FaultProxy {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// Starts a proxy to `upstream` (for example `http://127.0.0.1:9200`) with a plan.
    pub async fn start(upstream: &str, plan: impl IntoIterator<Item = Fault>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State {
            plan: plan.into_iter().collect(),
            stats: Stats::default(),
            forget_bodies: false,
        }));
        let upstream = upstream.trim_end_matches('/').to_owned();
        let client = reqwest::Client::new();
        let st = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let (st, client, upstream) = (st.clone(), client.clone(), upstream.clone());
                tokio::spawn(async move {
                    let svc = service_fn(move |req| handle(req, st.clone(), client.clone(), upstream.clone()));
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
                });
            }
        });
        Self { addr, state, task }
    }

    /// The proxy's URL.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// What the proxy has seen so far.
    #[must_use]
    pub fn stats(&self) -> Stats {
        self.state.lock().unwrap().stats.clone()
    }

    /// Stops keeping request bodies in [`Stats::bodies`] (for long runs).
    pub fn forget_bodies(&self) {
        let mut s = self.state.lock().unwrap();
        s.forget_bodies = true;
        s.stats.bodies.clear();
    }

    /// Drops the faults of the plan still to come.
    pub fn clear_plan(&self) {
        self.state.lock().unwrap().plan.clear();
    }

    /// Appends faults to the plan.
    pub fn push(&self, faults: impl IntoIterator<Item = Fault>) {
        self.state.lock().unwrap().plan.extend(faults);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Debug)]
struct Reset;

impl std::fmt::Display for Reset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("injected reset")
    }
}

impl std::error::Error for Reset {}

async fn handle(
    req: Request<Incoming>,
    state: Arc<Mutex<State>>,
    client: reqwest::Client,
    upstream: String,
) -> Result<Response<Full<Bytes>>, Reset> {
    let fault = {
        let mut s = state.lock().unwrap();
        s.stats.requests += 1;
        s.stats.last_authorization =
            req.headers().get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned);
        if !s.forget_bodies {
            s.stats.requests_seen.push(format!("{} {}", req.method(), req.uri().path()));
        }
        let f = s.plan.pop_front();
        if f.is_some() {
            s.stats.faults += 1;
        }
        f
    };
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map_err(|_| Reset)?.to_bytes();
    {
        let mut s = state.lock().unwrap();
        if !s.forget_bodies {
            s.stats.bodies.push(body.clone());
        }
    }
    match fault {
        None => Ok(forward(&client, &upstream, &parts, body).await),
        Some(Fault::Status(status)) => {
            let err =
                json!({"error": {"type": "injected_fault", "reason": format!("injected {status}")}, "status": status});
            Ok(response(status, serde_json::to_vec(&err).unwrap()))
        }
        Some(Fault::Delay(d)) => {
            tokio::time::sleep(d).await;
            Ok(forward(&client, &upstream, &parts, body).await)
        }
        Some(Fault::Reset) => Err(Reset),
        Some(Fault::Respond { status, body }) => Ok(response(status, body.into_bytes())),
        Some(Fault::PartialBulk { every, status }) => {
            let injected = ItemFault { every: every.max(1), status, error_type: "es_rejected_execution_exception" };
            let (resp, failed) = partial_bulk(&client, &upstream, &parts, &body, &injected).await;
            state.lock().unwrap().stats.items_failed += failed;
            Ok(resp)
        }
        Some(Fault::ItemError { every, status, error_type }) => {
            let injected = ItemFault { every: every.max(1), status, error_type: &error_type };
            let (resp, failed) = partial_bulk(&client, &upstream, &parts, &body, &injected).await;
            state.lock().unwrap().stats.items_failed += failed;
            Ok(resp)
        }
    }
}

fn response(status: u16, body: Vec<u8>) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

async fn forward(
    client: &reqwest::Client,
    upstream: &str,
    parts: &http::request::Parts,
    body: Bytes,
) -> Response<Full<Bytes>> {
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut req = client.request(parts.method.clone(), format!("{upstream}{path}")).body(body);
    for name in [
        "content-type",
        "content-encoding",
        "authorization",
        "x-amz-date",
        "x-amz-security-token",
        "x-amz-content-sha256",
        "x-amz-target",
    ] {
        if let Some(v) = parts.headers.get(name) {
            req = req.header(name, v.clone());
        }
    }
    match req.send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            response(status, r.bytes().await.map(|b| b.to_vec()).unwrap_or_default())
        }
        Err(e) => response(502, format!("{{\"error\":\"{e}\"}}").into_bytes()),
    }
}

/// The item failures one partial bulk fault injects.
struct ItemFault<'a> {
    every: usize,
    status: u16,
    error_type: &'a str,
}

/// Forwards the items that survive and merges the server's answer with injected failures.
async fn partial_bulk(
    client: &reqwest::Client,
    upstream: &str,
    parts: &http::request::Parts,
    body: &Bytes,
    injected: &ItemFault<'_>,
) -> (Response<Full<Bytes>>, usize) {
    let (every, status) = (injected.every, injected.status);
    let gzipped = parts.headers.get("content-encoding").is_some_and(|v| v == "gzip");
    let text = if gzipped {
        let mut s = String::new();
        #[allow(clippy::disallowed_types)] // Test proxy: bodies are our own, small requests.
        flate2::read::GzDecoder::new(&body[..]).read_to_string(&mut s).unwrap();
        s
    } else {
        String::from_utf8(body.to_vec()).unwrap()
    };
    let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    let items: Vec<(&str, &str)> = lines.chunks(2).map(|c| (c[0], c.get(1).copied().unwrap_or("{}"))).collect();
    let mut kept = String::new();
    for (i, (action, doc)) in items.iter().enumerate() {
        if i % every != 0 {
            kept.push_str(action);
            kept.push('\n');
            kept.push_str(doc);
            kept.push('\n');
        }
    }
    let mut upstream_items: VecDeque<Value> = if kept.is_empty() {
        VecDeque::new()
    } else {
        let mut fwd_parts = parts.clone();
        fwd_parts.headers.remove("content-encoding");
        let resp = forward(client, upstream, &fwd_parts, Bytes::from(kept)).await;
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        v["items"].as_array().cloned().unwrap_or_default().into()
    };
    let mut merged = Vec::new();
    let mut failed = 0;
    for (i, (action, _)) in items.iter().enumerate() {
        if i % every == 0 {
            failed += 1;
            let a: Value = serde_json::from_str(action).unwrap();
            let (op, meta) = a.as_object().unwrap().iter().next().unwrap();
            merged.push(json!({op: {"_index": meta["_index"], "_id": meta["_id"], "status": status,
                "error": {"type": injected.error_type, "reason": "injected item failure"}}}));
        } else {
            merged.push(upstream_items.pop_front().unwrap());
        }
    }
    let body = json!({"took": 1, "errors": true, "items": merged});
    (response(200, serde_json::to_vec(&body).unwrap()), failed)
}
