//! A local webhook receiver on 127.0.0.1: it records every JSON message it is sent, and can be
//! told to fail the first posts (a status, with `Retry-After` for 429, or silence past the
//! sender's timeout), as Slack and webhook endpoints sometimes do. The demo shows what it got;
//! the tests count it.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;

/// How to answer one post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// 200, and the message is recorded.
    Accept,
    /// This status; nothing is recorded. A 429 carries `Retry-After: 30`.
    Status(u16),
    /// No answer for this long; nothing is recorded.
    Silence(Duration),
}

/// One accepted request, as it arrived.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// `POST`, `PUT`, …
    pub method: String,
    /// The path with its query (`/api/x?overwrite=true`).
    pub target: String,
    /// Every header, names in lower case, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The body as JSON (`null` when it is not).
    pub body: Value,
}

impl Recorded {
    /// The path, without the query.
    #[must_use]
    pub fn path(&self) -> &str {
        self.target.split_once('?').map_or(self.target.as_str(), |(path, _)| path)
    }

    /// The value of header `name` (lower case), if sent.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Default)]
struct State {
    plan: Vec<Answer>,
    requests: Vec<Recorded>,
    refused: usize,
}

/// A running receiver; it stops when dropped.
#[derive(Debug)]
pub struct Receiver {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    /// Starts a receiver that answers the first posts as `plan` says and accepts the rest.
    ///
    /// # Errors
    /// When no port on 127.0.0.1 can be bound.
    pub async fn start(plan: impl IntoIterator<Item = Answer>) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let mut plan: Vec<Answer> = plan.into_iter().collect();
        plan.reverse();
        let state = Arc::new(Mutex::new(State { plan, ..State::default() }));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req| answer(req, state.clone()));
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
                });
            }
        });
        Ok(Self { addr, state, task })
    }

    /// The receiver's base URL; any path is accepted and recorded with the message.
    #[must_use]
    pub fn url(&self, path: &str) -> String {
        format!("http://{}/{}", self.addr, path.trim_start_matches('/'))
    }

    /// The messages accepted so far, with the path each was posted to.
    #[must_use]
    pub fn received(&self) -> Vec<(String, Value)> {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.requests.iter().map(|r| (r.path().to_owned(), r.body.clone())).collect()
    }

    /// The requests accepted so far, with method, query and headers.
    #[must_use]
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).requests.clone()
    }

    /// How many posts were answered with a failure.
    #[must_use]
    pub fn refused(&self) -> usize {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).refused
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(
    req: Request<hyper::body::Incoming>,
    state: Arc<Mutex<State>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = req.method().to_string();
    let target = req.uri().path_and_query().map_or_else(|| req.uri().path().to_owned(), ToString::to_string);
    let headers = req
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let body = req.into_body().collect().await.map(http_body_util::Collected::to_bytes).unwrap_or_default();
    let planned = state.lock().unwrap_or_else(PoisonError::into_inner).plan.pop().unwrap_or(Answer::Accept);
    let reply = |status: u16| {
        let mut resp = Response::new(Full::new(Bytes::from_static(b"")));
        *resp.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
        if status == 429 {
            resp.headers_mut().insert("retry-after", hyper::header::HeaderValue::from_static("30"));
        }
        resp
    };
    match planned {
        Answer::Accept => {
            let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
            state.requests.push(Recorded { method, target, headers, body: value });
            Ok(reply(200))
        }
        Answer::Status(status) => {
            state.lock().unwrap_or_else(PoisonError::into_inner).refused += 1;
            Ok(reply(status))
        }
        Answer::Silence(wait) => {
            state.lock().unwrap_or_else(PoisonError::into_inner).refused += 1;
            tokio::time::sleep(wait).await;
            Ok(reply(504))
        }
    }
}
