//! A real `fluxbase serve` process on a free port, and a real HTTP client for it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::Host;

/// The service key the test servers use.
pub const SERVICE_KEY: &str = "test-service-key-0123456789";

/// A running server; killed when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// Every line the server wrote to stderr so far.
    pub log: Arc<Mutex<Vec<String>>>,
    /// The thread that moves stderr lines into `log`; it ends at the server's exit.
    reader: Option<std::thread::JoinHandle<()>>,
    agent: ureq::Agent,
}

/// One HTTP answer.
#[derive(Debug)]
pub struct Answer {
    /// Status code.
    pub status: u16,
    /// Headers as (name, value).
    pub headers: Vec<(String, String)>,
    /// Body text.
    pub body: String,
}

impl Answer {
    /// The body as JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {self:#?}"))
    }

    /// Asserts a JSON error with this status whose message contains `needle`.
    #[track_caller]
    pub fn error(&self, status: u16, needle: &str) {
        assert_eq!(self.status, status, "{self:#?}");
        let message = self.json()["error"].as_str().unwrap_or_default().to_owned();
        assert!(message.contains(needle), "{needle:?} not in {message:?}");
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Server {
    /// Starts `fluxbase serve` for `host` over the fixtures, with `extra` arguments.
    pub fn start(host: &Host, extra: &[&str]) -> Server {
        Self::start_in(
            host,
            &super::fixtures("functions"),
            &super::fixtures("jobs"),
            extra,
        )
    }

    /// Starts `fluxbase serve` for `host` over the fixtures, with `extra` arguments and extra
    /// environment variables for this process only.
    pub fn start_with_env(host: &Host, extra: &[&str], env: &[(&str, &str)]) -> Server {
        Self::spawn(
            host,
            &super::fixtures("functions"),
            &super::fixtures("jobs"),
            extra,
            env,
        )
    }

    /// Starts `fluxbase serve` for `host` over these handler directories.
    pub fn start_in(
        host: &Host,
        functions: &std::path::Path,
        jobs: &std::path::Path,
        extra: &[&str],
    ) -> Server {
        Self::spawn(host, functions, jobs, extra, &[])
    }

    fn spawn(
        host: &Host,
        functions: &std::path::Path,
        jobs: &std::path::Path,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Server {
        let mut args = vec![
            "serve".to_owned(),
            "--listen".into(),
            "127.0.0.1:0".into(),
            "--functions-dir".into(),
            functions.display().to_string(),
            "--jobs-dir".into(),
            jobs.display().to_string(),
        ];
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut child = host
            .command(&args)
            .env("FLUXBASE_SERVICE_KEY", SERVICE_KEY)
            .env("FLUXBASE_LOG", "info,tower_http=debug")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start fluxbase serve");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (address_tx, address_rx) = std::sync::mpsc::channel();
        let lines = log.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let address = rest
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_owned();
                    let _ = address_tx.send(address);
                }
                lines.lock().unwrap().push(line);
            }
        });
        let address = address_rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("server did not start: {:?}", log.lock().unwrap()));
        // A fresh connection per request: the server may close a kept-alive connection after
        // refusing a request whose body it did not read, and a pooled connection it closed
        // fails the next request ("Peer disconnected"), which CI saw once.
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_idle_connections(0)
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .new_agent();
        Server {
            child,
            base: format!("http://{address}"),
            log,
            reader: Some(reader),
            agent,
        }
    }

    /// Sends a request; `key` adds the service key, `body` is sent as JSON.
    pub fn request(&self, method: &str, path: &str, key: bool, body: Option<&str>) -> Answer {
        self.send(
            method,
            path,
            key.then_some(SERVICE_KEY),
            &[],
            body.map(str::as_bytes),
            true,
        )
    }

    /// Sends a request with every part chosen.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
        json: bool,
    ) -> Answer {
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if let Some(key) = key {
            request = request.header("authorization", format!("Bearer {key}"));
        }
        if json && body.is_some() {
            request = request.header("content-type", "application/json");
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(body.unwrap_or_default().to_vec()).unwrap();
        let mut response = self.agent.run(request).expect("HTTP request");
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    v.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let body = response
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_string()
            .unwrap_or_default();
        Answer {
            status,
            headers,
            body,
        }
    }

    /// The server's log once a line containing `needle` has arrived (lines reach the log through
    /// a reader thread, so a line written just before a response may trail it briefly). Panics
    /// with the log after 10 s without it.
    #[track_caller]
    pub fn log_with(&self, needle: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let log = self.log.lock().unwrap().join("\n");
            if log.contains(needle) {
                return log;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{needle:?} not in the server log: {log}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `GET /api/v1/jobs/runs/:id` with `credential`.
    pub fn job_run(&self, id: &str, credential: &str) -> Answer {
        let path = format!("/api/v1/jobs/runs/{id}");
        self.send("GET", &path, Some(credential), &[], None, false)
    }

    /// The job run `id` once it has ended (succeeded or failed), read with `credential`.
    /// Panics after 60 s.
    #[track_caller]
    pub fn wait_for_run(&self, id: &str, credential: &str) -> serde_json::Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let answer = self.job_run(id, credential);
            assert_eq!(answer.status, 200, "{answer:#?}");
            let run = answer.json();
            if ["succeeded", "failed", "cancelled"]
                .contains(&run["status"].as_str().unwrap_or_default())
            {
                return run;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "run {id} did not finish: {run}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The server's process id (to read its memory in `/proc/<pid>/status`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's resident memory now (`VmRSS` of `/proc/<pid>/status`), in bytes.
    pub fn rss_bytes(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("read the server's /proc status");
        let kib: u64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .expect("VmRSS in /proc status");
        kib * 1024
    }

    /// Kills the process at once (SIGKILL: no shutdown, no cleanup) and waits for it to go and
    /// for its last log line to reach `log`.
    pub fn kill(mut self) {
        self.child.kill().expect("kill fluxbase serve");
        let _ = self.child.wait();
        self.join_reader();
    }

    /// Sends SIGTERM and waits for the exit code; afterwards `log` holds every line the server
    /// wrote.
    pub fn terminate(mut self) -> Option<i32> {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let status = self.child.wait().ok();
        self.join_reader();
        status?.code()
    }

    /// Waits for the stderr reader, which ends when the exited server's stderr closes.
    fn join_reader(&mut self) {
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
