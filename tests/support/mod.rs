//! Drives the built `fluxbase` binary against a real database in a temporary data directory.
//!
//! The generic constructors ([`Host::new`], `runtime::Runtime::new`) put the store on the backend
//! that `FLUXBASE_TEST_BACKEND` names: `sqlite` (the default) or `postgres` (a fresh database of
//! the server at `FLUXBASE_TEST_POSTGRES_URL` per host). Tests that are about SQLite itself use
//! [`Host::sqlite`]; tests that need PostgreSQL whatever the backend use [`Host::postgres`].

#![allow(dead_code)]

pub mod module_server;
pub mod raw_http;
pub mod server;
pub mod ws_client;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The fixture handlers of `kind` (`functions` or `jobs`).
pub fn fixtures(kind: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(kind)
}

/// The SHA-256 of `value` in hex, as fixture jobs report a secret value they saw
/// (`fixtures/jobs/_shared/digest.ts`).
pub fn sha256_hex(value: &str) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(value.as_bytes()))
}

/// Environment variable naming a PostgreSQL server for the tests that need one.
pub const POSTGRES_URL_ENV: &str = "FLUXBASE_TEST_POSTGRES_URL";
/// Environment variable choosing the backend of the generic test hosts: `sqlite` or `postgres`.
pub const BACKEND_ENV: &str = "FLUXBASE_TEST_BACKEND";
/// Environment variable that turns a missing `FLUXBASE_TEST_POSTGRES_URL` from a skip into a
/// failure (CI sets it, so that no PostgreSQL test is silently skipped there).
pub const REQUIRE_POSTGRES_ENV: &str = "FLUXBASE_TEST_REQUIRE_POSTGRES";
/// The master key of every test host on PostgreSQL (a shared database needs an explicit key).
pub const POSTGRES_TEST_KEY: &str = "cG9zdGdyZXMtdGVzdC1rZXktMzItYnl0ZXMtbG9uZyE=";

/// The database kinds the suite runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded SQLite file of the data directory.
    Sqlite,
    /// A database of its own on the PostgreSQL server of `FLUXBASE_TEST_POSTGRES_URL`.
    Postgres,
}

/// The backend of the generic constructors, from `FLUXBASE_TEST_BACKEND` (default `sqlite`).
pub fn backend() -> Backend {
    match std::env::var(BACKEND_ENV).as_deref() {
        Err(_) | Ok("" | "sqlite") => Backend::Sqlite,
        Ok("postgres") => Backend::Postgres,
        Ok(other) => panic!("{BACKEND_ENV}={other:?}: use sqlite or postgres"),
    }
}

/// The PostgreSQL server URL for a test that needs one, or `None` (with a `SKIPPED` note on
/// stderr) when it is not configured. Missing is a failure instead when the suite runs on the
/// PostgreSQL backend or `FLUXBASE_TEST_REQUIRE_POSTGRES=1`.
pub fn postgres_url(test: &str) -> Option<String> {
    if let Ok(url) = std::env::var(POSTGRES_URL_ENV) {
        return Some(url);
    }
    if backend() == Backend::Postgres {
        panic!(
            "{BACKEND_ENV}=postgres needs {POSTGRES_URL_ENV} (e.g. postgres://root@127.0.0.1:5432/test)"
        );
    }
    if std::env::var(REQUIRE_POSTGRES_ENV).is_ok_and(|v| v == "1") {
        panic!(
            "{test} needs PostgreSQL: {REQUIRE_POSTGRES_ENV}=1 but {POSTGRES_URL_ENV} is not set"
        );
    }
    eprintln!("SKIPPED {test}: set {POSTGRES_URL_ENV} to run it against PostgreSQL");
    None
}

/// A fresh database on the test PostgreSQL server, dropped (connections and all) with this value.
#[derive(Debug)]
pub struct TestDatabase {
    admin_url: String,
    name: String,
    /// The URL of the new database.
    pub url: String,
}

impl TestDatabase {
    /// Creates a database on the server that `admin_url` reaches.
    pub fn create(admin_url: &str) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "fluxbase_{}_{}",
            sentinel(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        postgres_admin(admin_url, &format!("CREATE DATABASE {name}"));
        let (base, _) = admin_url.rsplit_once('/').expect("URL names a database");
        TestDatabase {
            admin_url: admin_url.to_owned(),
            url: format!("{base}/{name}"),
            name,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        postgres_admin(
            &self.admin_url,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// A data directory and the environment the binary runs with.
pub struct Host {
    /// Keeps the directory alive for the test.
    _dir: tempfile::TempDir,
    /// The data directory.
    pub data_dir: PathBuf,
    /// Extra environment for every run.
    pub env: Vec<(String, String)>,
    /// The PostgreSQL database of this host (shared with the hosts made by [`Host::sharing`]),
    /// dropped with the last of them.
    postgres: Option<Arc<TestDatabase>>,
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

impl Default for Host {
    fn default() -> Self {
        Host::new()
    }
}

impl Host {
    /// A host on the backend `FLUXBASE_TEST_BACKEND` names (see the module documentation).
    pub fn new() -> Self {
        match backend() {
            Backend::Sqlite => Host::sqlite(),
            Backend::Postgres => Host::postgres("the PostgreSQL backend").expect("URL checked"),
        }
    }

    /// A host on the embedded SQLite default, with a generated key file, whatever the backend:
    /// for tests about the SQLite file, its locks or the key file of the data directory.
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

    /// A host on a fresh database of the PostgreSQL server named by `FLUXBASE_TEST_POSTGRES_URL`
    /// with the test master key, or `None` when the test is skipped (see [`postgres_url`]).
    pub fn postgres(test: &str) -> Option<Self> {
        let admin_url = postgres_url(test)?;
        let database = Arc::new(TestDatabase::create(&admin_url));
        let mut host = Host::sqlite()
            .with_env("FLUXBASE_DATABASE_URL", &database.url)
            .with_env("FLUXBASE_ENCRYPTION_KEY", POSTGRES_TEST_KEY);
        host.postgres = Some(database);
        Some(host)
    }

    /// Another host on the same PostgreSQL database, with the same environment (and so the
    /// same master key) but a data directory of its own: a second machine of a cluster.
    pub fn sharing(&self) -> Self {
        let database = self
            .postgres
            .clone()
            .expect("only a PostgreSQL database can be shared between hosts");
        let mut host = Host::sqlite();
        host.env = self.env.clone();
        host.postgres = Some(database);
        host
    }

    /// The backend this host's store is on.
    pub fn backend(&self) -> Backend {
        match self.postgres {
            Some(_) => Backend::Postgres,
            None => Backend::Sqlite,
        }
    }

    /// The sqlx URL of this host's store.
    pub fn database_url(&self) -> String {
        match &self.postgres {
            Some(database) => database.url.clone(),
            None => format!("sqlite://{}", self.db_path().display()),
        }
    }

    /// Everything this host keeps, as (place, bytes): each file of the data directory, and on
    /// PostgreSQL each table's rows as text (`bytea` columns in hex).
    pub fn stored_bytes(&self) -> Vec<(String, Vec<u8>)> {
        let mut stored = Vec::new();
        if self.data_dir.is_dir() {
            for entry in std::fs::read_dir(&self.data_dir).unwrap() {
                let path = entry.unwrap().path();
                stored.push((path.display().to_string(), std::fs::read(&path).unwrap()));
            }
        }
        if let Some(database) = &self.postgres {
            stored.extend(block_on(postgres_tables(&database.url)));
        }
        stored
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

/// Runs one administrative statement on the PostgreSQL server.
fn postgres_admin(admin_url: &str, statement: &str) {
    block_on(async {
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

/// Every table of a PostgreSQL database as (table, its rows as text).
async fn postgres_tables(url: &str) -> Vec<(String, Vec<u8>)> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT tablename::TEXT FROM pg_tables WHERE schemaname = 'public'")
            .fetch_all(&mut conn)
            .await
            .expect("list tables");
    let mut dump = Vec::new();
    for table in tables {
        let statement =
            format!("SELECT COALESCE(string_agg(CAST(t AS TEXT), E'\\n'), '') FROM \"{table}\" t");
        let rows: String = sqlx::query_scalar(sqlx::AssertSqlSafe(statement))
            .fetch_one(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("read {table}: {e}"));
        dump.push((format!("table {table}"), rows.into_bytes()));
    }
    dump
}

/// Runs `future` to completion on a runtime of its own, on a thread of its own: callable from
/// plain tests, from async tests and from `Drop`.
pub fn block_on<F>(future: F) -> F::Output
where
    F: std::future::Future + Send,
    F::Output: Send,
{
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap()
                    .block_on(future)
            })
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

pub(crate) fn collect(output: Output) -> Run {
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Connects straight to a host's database, whichever the backend, to inspect or tamper with it
/// as someone with write access to the database. Queries use `$N` placeholders.
pub async fn open_database(host: &Host) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&host.database_url())
        .await
        .unwrap_or_else(|e| panic!("open {}: {e}", host.database_url()))
}

/// A value no test writes anywhere but into a secret.
pub fn sentinel() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("snt{:x}{:x}zz", nanos, std::process::id())
}

/// Lower-case hex of `bytes` (how PostgreSQL shows `bytea`).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `needle` occurs in `haystack`.
pub fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// No version without its secret, no secret without its current version and, on SQLite,
/// `PRAGMA integrity_check` is `ok`. (PostgreSQL has no such check; its own WAL is its
/// guarantee, and the row checks apply to it too.)
pub fn assert_database_is_whole(host: &Host) {
    block_on(async {
        let db = open_database(host).await;
        if host.backend() == Backend::Sqlite {
            let verdict: String = sqlx::query_scalar("PRAGMA integrity_check")
                .fetch_one(&db)
                .await
                .unwrap();
            assert_eq!(verdict, "ok");
        }
        let orphan_versions: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM secret_versions v \
             WHERE NOT EXISTS (SELECT 1 FROM secrets s WHERE s.id = v.secret_id)",
        )
        .fetch_one(&db)
        .await
        .unwrap();
        assert_eq!(orphan_versions, 0, "versions without a secret");
        let headless: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM secrets s WHERE NOT EXISTS (SELECT 1 FROM secret_versions v \
             WHERE v.secret_id = s.id AND v.version = s.current_version)",
        )
        .fetch_one(&db)
        .await
        .unwrap();
        assert_eq!(headless, 0, "secrets without their current version");
        db.close().await;
    });
}
