//! Drives the built `fluxbase` binary against a real database in a temporary data directory.

#![allow(dead_code)]

pub mod raw_http;
pub mod runtime;
pub mod server;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Environment variable naming a PostgreSQL server for the tests that need one.
pub const POSTGRES_URL_ENV: &str = "FLUXBASE_TEST_POSTGRES_URL";

/// A data directory and the environment the binary runs with.
pub struct Host {
    /// Keeps the directory alive for the test.
    _dir: tempfile::TempDir,
    /// The data directory.
    pub data_dir: PathBuf,
    /// Extra environment for every run.
    pub env: Vec<(String, String)>,
    /// The PostgreSQL server URL and the database created for this host, dropped with it.
    postgres: Option<(String, String)>,
}

/// What one run of the binary produced.
#[derive(Debug)]
pub struct Run {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Asserts success and returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, 0, "command failed: {self:#?}");
        &self.stdout
    }

    /// Asserts failure with a one-line `error:` message containing `needle`.
    #[track_caller]
    pub fn fails_with(&self, needle: &str) {
        assert_ne!(self.code, 0, "command succeeded: {self:#?}");
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "expected one line on stderr: {self:#?}");
        assert!(lines[0].starts_with("error: "), "{self:#?}");
        assert!(
            lines[0].contains(needle),
            "stderr lacks {needle:?}: {self:#?}"
        );
    }

    /// Parses stdout as JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.ok()).unwrap_or_else(|e| panic!("bad JSON ({e}): {self:#?}"))
    }
}

impl Host {
    /// A host on the embedded SQLite default, with a generated key file.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let data_dir = dir.path().join("data");
        Host {
            _dir: dir,
            data_dir,
            env: Vec::new(),
            postgres: None,
        }
    }

    /// A host on a fresh database of the PostgreSQL server named by `FLUXBASE_TEST_POSTGRES_URL`,
    /// or `None` (with a note on stderr) when that variable is not set.
    pub fn postgres(test: &str) -> Option<Self> {
        let Ok(admin_url) = std::env::var(POSTGRES_URL_ENV) else {
            eprintln!("SKIPPED {test}: set {POSTGRES_URL_ENV} to run it against PostgreSQL");
            return None;
        };
        let database = format!("fluxbase_{}", sentinel());
        postgres_admin(&admin_url, &format!("CREATE DATABASE {database}"));
        let (base, _) = admin_url.rsplit_once('/').expect("URL names a database");
        let mut host = Host::sqlite()
            .with_env("FLUXBASE_DATABASE_URL", &format!("{base}/{database}"))
            .with_env(
                "FLUXBASE_ENCRYPTION_KEY",
                "cG9zdGdyZXMtdGVzdC1rZXktMzItYnl0ZXMtbG9uZyE=",
            );
        host.postgres = Some((admin_url, database));
        Some(host)
    }

    /// The embedded database file.
    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("fluxbase.db")
    }

    /// Sets an environment variable for later runs.
    pub fn with_env(mut self, key: &str, value: &str) -> Self {
        self.set_env(key, value);
        self
    }

    /// Sets (or replaces) an environment variable for later runs.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.into(), value.into()));
    }

    /// The command for `args`, with a clean environment.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_fluxbase"));
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("USER", "tester")
            .env("FLUXBASE_DATA_DIR", &self.data_dir)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null());
        command
    }

    /// Runs `fluxbase ARGS`.
    pub fn run(&self, args: &[&str]) -> Run {
        collect(self.command(args).output().expect("run fluxbase"))
    }

    /// Runs `fluxbase ARGS` with extra environment variables.
    pub fn run_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut command = self.command(args);
        command.envs(env.iter().copied());
        collect(command.output().expect("run fluxbase"))
    }

    /// Runs `fluxbase ARGS` with `input` on stdin.
    pub fn run_with_stdin(&self, args: &[&str], input: &[u8]) -> Run {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn fluxbase");
        child.stdin.take().unwrap().write_all(input).unwrap();
        collect(child.wait_with_output().unwrap())
    }

    /// The metadata of a secret, as `secrets get -o json` prints it.
    pub fn metadata(&self, name: &str, namespace: Option<&str>) -> serde_json::Value {
        let mut args = vec!["secrets", "get", name, "-o", "json"];
        if let Some(ns) = namespace {
            args.extend(["--namespace", ns]);
        }
        self.run(&args).json()
    }

    /// The version numbers of a secret, from `secrets history -o json`.
    pub fn versions(&self, name: &str, namespace: Option<&str>) -> Vec<i64> {
        let mut args = vec!["secrets", "history", name, "-o", "json"];
        if let Some(ns) = namespace {
            args.extend(["--namespace", ns]);
        }
        self.run(&args)
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["version"].as_i64().unwrap())
            .collect()
    }

    /// Every audit record, newest first.
    pub fn audit(&self) -> Vec<serde_json::Value> {
        self.run(&[
            "logs",
            "list",
            "--category",
            "audit",
            "--limit",
            "10000",
            "-o",
            "json",
        ])
        .json()
        .as_array()
        .unwrap()
        .clone()
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        if let Some((admin_url, database)) = self.postgres.take() {
            postgres_admin(
                &admin_url,
                &format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"),
            );
        }
    }
}

/// Runs one administrative statement on the PostgreSQL server.
fn postgres_admin(admin_url: &str, statement: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(admin_url)
            .await
            .unwrap_or_else(|e| panic!("{POSTGRES_URL_ENV} is set but unreachable: {e}"));
        sqlx::query(sqlx::AssertSqlSafe(statement.to_owned()))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    });
}

pub(crate) fn collect(output: Output) -> Run {
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Opens the SQLite file directly, to inspect or tamper with it as an attacker with file access.
pub async fn open_sqlite(path: &Path) -> sqlx::SqlitePool {
    sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("open sqlite file")
}

/// A value no test writes anywhere but into a secret.
pub fn sentinel() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("snt{:x}{:x}zz", nanos, std::process::id())
}

/// Whether `needle` occurs in `haystack`.
pub fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
