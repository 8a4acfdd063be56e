//! A moto server (the AWS emulator, PyPI `moto[server]`, pinned in `scripts/install-moto`) on a
//! free 127.0.0.1 port: [`Moto::shared`], one for every test of a test binary that keeps to
//! accounts of its own, or [`Moto::start`], owned by one test (one that changes server-wide
//! settings such as IAM enforcement) and killed when dropped.
//!
//! moto keeps state per account; [`Moto::config`] switches accounts through STS AssumeRole.

#![allow(dead_code)] // Each test crate that includes this file uses a different part of it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_sdk_iam::config::{Credentials, SharedCredentialsProvider};

/// The secret access key of the default test identity; tests check it never leaks into output.
pub const SECRET: &str = "moto-test-secret-do-not-print-0123456789";

/// The access key id of the default test identity (moto does not know it, so it is an admin
/// of moto's default account until IAM is enforced).
pub const TEST_KEY: &str = "AKIATRUSTCHECKTEST01";

/// moto's default account.
pub const DEFAULT_ACCOUNT: &str = "123456789012";

/// A running moto server.
pub struct Moto {
    child: Child,
    /// Its base URL, `http://127.0.0.1:<port>`.
    pub url: String,
    port: u16,
}

/// Where `scripts/install-moto` puts the server.
pub fn moto_server_path() -> PathBuf {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    // providers/aws → the workspace root; the root package's tests use it directly.
    let workspace = if workspace.ends_with("providers/aws") {
        workspace.join("../..")
    } else {
        workspace
    };
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                workspace.join(dir)
            }
        }
        None => workspace.join("target"),
    };
    target.join("moto-venv/bin/moto_server")
}

impl Moto {
    /// The moto server every test of this binary shares, started on first use. Tests that
    /// share it keep apart by using accounts of their own (moto keeps state per account) and
    /// never change server-wide settings.
    ///
    /// It outlives every test: a static is never dropped. So that it does not outlive the test
    /// process, it runs under a shell that waits for its stdin, a pipe this process holds, to
    /// close (as it does when the process exits, however it exits) and then stops it.
    pub fn shared() -> &'static Moto {
        static SHARED: OnceLock<Moto> = OnceLock::new();
        SHARED.get_or_init(|| Self::spawn(&[], true))
    }

    /// Starts a server for one test; panics with what to do when moto is not installed.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Starts a server for one test, with extra environment variables.
    pub fn start_with(env: &[(&str, &str)]) -> Self {
        Self::spawn(env, false)
    }

    fn spawn(env: &[(&str, &str)], until_process_exit: bool) -> Self {
        let server = moto_server_path();
        assert!(
            server.exists(),
            "moto is not installed at `{}`: run `scripts/install-moto` (the test command `scripts/test` does)",
            server.display()
        );
        // Ask the OS for a free port, then hand it to moto. Another process could take it in
        // between; the readiness check below would then fail loudly rather than test the wrong server.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free local port")
            .port();
        let port_text = port.to_string();
        let args = ["-H", "127.0.0.1", "-p", port_text.as_str()];
        let mut command = if until_process_exit {
            let mut sh = Command::new("sh");
            sh.arg("-c")
                .arg(r#""$0" "$@" & moto=$!; cat >/dev/null; kill "$moto"; wait "$moto""#)
                .arg(&server)
                .args(args)
                .stdin(Stdio::piped());
            sh
        } else {
            let mut direct = Command::new(&server);
            direct.args(args).stdin(Stdio::null());
            direct
        };
        command
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in env {
            command.env(k, v);
        }
        let child = command.spawn().expect("moto_server starts");
        let mut moto = Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
            port,
        };
        moto.wait_ready();
        moto
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("moto_server exited before serving: {status}");
            }
            if self.http("GET", "/moto-api/data.json", "").is_some() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "moto_server did not answer within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A bare HTTP/1.0 request to moto's own API; the response body, if it answered.
    fn http(&self, method: &str, path: &str, body: &str) -> Option<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .ok()?;
        write!(
            stream,
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        response.starts_with("HTTP/").then_some(response)
    }

    /// From now on moto authenticates and authorizes every request with IAM policies.
    pub fn enforce_iam(&self) {
        let r = self
            .http("POST", "/moto-api/reset-auth", "0")
            .expect("moto answers reset-auth");
        assert!(r.contains("200"), "reset-auth failed: {r}");
    }

    /// SDK config for an admin of `account`. moto serves its default account to any unknown
    /// key, and lets STS assume any role ARN (existing or not) to switch accounts.
    pub async fn config(&self, account: &str) -> SdkConfig {
        let base = self.config_with_key(TEST_KEY, SECRET).await;
        if account == DEFAULT_ACCOUNT {
            return base;
        }
        let assumed = aws_sdk_sts::Client::new(&base)
            .assume_role()
            .role_arn(format!("arn:aws:iam::{account}:role/moto-admin"))
            .role_session_name("seed")
            .send()
            .await
            .expect("moto assumes any role");
        let c = assumed.credentials().expect("temporary credentials");
        self.config_with(Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_string()),
            None,
            "moto-test",
        ))
        .await
    }

    /// SDK config for the identity with this access key and secret.
    pub async fn config_with_key(&self, access_key: &str, secret: &str) -> SdkConfig {
        self.config_with(Credentials::new(
            access_key,
            secret,
            None,
            None,
            "moto-test",
        ))
        .await
    }

    async fn config_with(&self, credentials: Credentials) -> SdkConfig {
        // The collector's own base config (adaptive retries, timeouts), with the region and
        // endpoint given explicitly so no test reads the shared environment or instance metadata.
        trustcheck_aws::load_base_config(Some("us-east-1".into()), Some(self.url.clone()), 3)
            .await
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(credentials))
            .build()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        // Ends only the server this test started, by its own handle.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
