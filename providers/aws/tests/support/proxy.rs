//! A small HTTP proxy in front of moto, for the two things moto cannot do:
//!
//! - **refuse a role**: moto lets anyone assume any role ARN (it does not evaluate trust
//!   policies), so an account whose audit role cannot be assumed is simulated here: `AssumeRole`
//!   into one of [`ProxySettings::deny_assume_role_into`] is answered, without reaching moto, with
//!   STS's documented error (`403`, an `ErrorResponse` with `Code` `AccessDenied`), which the real
//!   SDK parses as it would AWS's;
//! - **answer at AWS's pace**: moto answers in about a millisecond, AWS in tens; a fixed
//!   [`ProxySettings::latency`] before each request makes concurrency measurable in the benchmark.
//!
//! Everything else is forwarded to moto unchanged (headers, body, the answer). The proxy runs on a
//! thread of its own (its own runtime), so it serves a child process as well as the test's SDK,
//! and stops when dropped.

#![allow(dead_code)] // Each test crate that includes this file uses a different part of it.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};

/// What the proxy does besides forwarding.
#[derive(Debug, Clone, Default)]
pub struct ProxySettings {
    /// Accounts (12-digit ids) no role can be assumed into.
    pub deny_assume_role_into: Vec<String>,
    /// Waited before each request is answered (changed later with [`Proxy::set_latency`]).
    pub latency: Duration,
}

/// A running proxy.
pub struct Proxy {
    /// Its base URL, `http://127.0.0.1:<port>`: give it to the SDK or the binary as the endpoint.
    pub url: String,
    requests: Arc<AtomicU64>,
    by_action: Arc<Mutex<BTreeMap<String, u64>>>,
    latency_us: Arc<AtomicU64>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

struct State {
    upstream: String,
    settings: ProxySettings,
    latency_us: Arc<AtomicU64>,
    by_action: Arc<Mutex<BTreeMap<String, u64>>>,
    client: Client<HttpConnector, Full<Bytes>>,
    requests: Arc<AtomicU64>,
}

impl Proxy {
    /// Starts a proxy to `upstream` (moto's base URL) on a free 127.0.0.1 port.
    pub fn start(upstream: &str, settings: ProxySettings) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free local port");
        let addr: SocketAddr = listener.local_addr().expect("a bound address");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let requests = Arc::new(AtomicU64::new(0));
        let latency_us = Arc::new(AtomicU64::new(micros(settings.latency)));
        let by_action = Arc::new(Mutex::new(BTreeMap::new()));
        let state = Arc::new(State {
            upstream: upstream.trim_end_matches('/').to_string(),
            settings,
            latency_us: Arc::clone(&latency_us),
            by_action: Arc::clone(&by_action),
            client: Client::builder(TokioExecutor::new()).build_http(),
            requests: Arc::clone(&requests),
        });
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("the proxy's runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("a listener");
                loop {
                    let accepted = tokio::select! {
                        _ = &mut stopped => return,
                        accepted = listener.accept() => accepted,
                    };
                    let Ok((stream, _)) = accepted else { continue };
                    let state = Arc::clone(&state);
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(move |req| {
                            let state = Arc::clone(&state);
                            async move { Ok::<_, Infallible>(handle(req, &state).await) }
                        });
                        // A client that hangs up mid-request is no concern of the test's.
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            });
        });
        Self {
            url: format!("http://{addr}"),
            requests,
            by_action,
            latency_us,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Changes the latency added to each request from now on.
    pub fn set_latency(&self, latency: Duration) {
        self.latency_us.store(micros(latency), Ordering::Relaxed);
    }

    /// Requests so far by action: the query protocol's `Action` (STS, IAM), or the operation of
    /// an `X-Amz-Target` header (Organizations).
    pub fn requests_by_action(&self) -> BTreeMap<String, u64> {
        self.by_action
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Requests the proxy has answered or forwarded so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn handle(req: Request<Incoming>, state: &State) -> Response<Full<Bytes>> {
    state.requests.fetch_add(1, Ordering::Relaxed);
    let (mut parts, body) = req.into_parts();
    let Ok(body) = body.collect().await.map(|b| b.to_bytes()) else {
        return text(StatusCode::BAD_REQUEST, "unreadable request body");
    };
    let latency = state.latency_us.load(Ordering::Relaxed);
    if latency > 0 {
        tokio::time::sleep(Duration::from_micros(latency)).await;
    }
    let action = form_urlencoded::parse(&body)
        .find(|(k, _)| k == "Action")
        .map(|(_, v)| v.into_owned())
        .or_else(|| {
            let target = parts.headers.get("x-amz-target")?.to_str().ok()?;
            Some(target.rsplit('.').next()?.to_string())
        })
        .unwrap_or_else(|| "?".to_string());
    *state
        .by_action
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(action)
        .or_default() += 1;
    if let Some(role) = denied_role(&body, &state.settings.deny_assume_role_into) {
        return access_denied(&role);
    }
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    parts.uri = format!("{}{path}", state.upstream)
        .parse()
        .expect("moto's URL and a request path make a URI");
    match state
        .client
        .request(Request::from_parts(parts, Full::new(body)))
        .await
    {
        Ok(answer) => {
            let (parts, body) = answer.into_parts();
            match body.collect().await {
                Ok(body) => Response::from_parts(parts, Full::new(body.to_bytes())),
                Err(e) => text(StatusCode::BAD_GATEWAY, &format!("moto's answer: {e}")),
            }
        }
        Err(e) => text(StatusCode::BAD_GATEWAY, &format!("moto: {e}")),
    }
}

/// The role of an STS `AssumeRole` request (a form body: `Action=AssumeRole&RoleArn=…`) into
/// one of `accounts`.
fn denied_role(body: &[u8], accounts: &[String]) -> Option<String> {
    if accounts.is_empty() {
        return None;
    }
    let mut action = None;
    let mut role = None;
    for (k, v) in form_urlencoded::parse(body) {
        match k.as_ref() {
            "Action" => action = Some(v.into_owned()),
            "RoleArn" => role = Some(v.into_owned()),
            _ => {}
        }
    }
    let role = role.filter(|_| action.as_deref() == Some("AssumeRole"))?;
    // arn:aws:iam::<account>:role/<name>
    let account = role.split(':').nth(4)?;
    accounts.iter().any(|a| a == account).then_some(role)
}

/// STS's answer to a caller the role's trust policy does not name (STS API reference, common
/// errors: `AccessDenied`, HTTP 403, the query protocol's `ErrorResponse`).
fn access_denied(role: &str) -> Response<Full<Bytes>> {
    let xml = format!(
        r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error>
    <Type>Sender</Type>
    <Code>AccessDenied</Code>
    <Message>User: arn:aws:iam::123456789012:user/trustcheck is not authorized to perform: sts:AssumeRole on resource: {role}</Message>
  </Error>
  <RequestId>2f6a2a84-5d4e-4a36-9c0e-7f3c1a0b9e11</RequestId>
</ErrorResponse>
"#
    );
    Response::builder()
        .status(StatusCode::FORBIDDEN)
        .header("content-type", "text/xml")
        .header("x-amzn-requestid", "2f6a2a84-5d4e-4a36-9c0e-7f3c1a0b9e11")
        .body(Full::new(Bytes::from(xml)))
        .expect("a valid response")
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

fn text(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "text/plain")
        .body(Full::new(Bytes::from(message.to_string())))
        .expect("a valid response")
}
