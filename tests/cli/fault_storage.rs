//! A database that cannot take writes (its file read-only, its disk full) gives a clear error
//! and changes nothing: the secret keeps its version and history, the tables and the audit log
//! keep their rows, and writes work again once the cause is gone.
//!
//! Making a file read-only for root (CI runs as root) takes `chattr +i`; a full disk takes a
//! small tmpfs, which only root can mount. Without them those tests say `SKIPPED` and pass.

use crate::support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use support::server::{SERVICE_KEY, Server};
use support::{Backend, Host, Run};

/// What a failed write must leave unchanged.
#[derive(Debug, PartialEq)]
struct Snapshot {
    version: serde_json::Value,
    versions: Vec<i64>,
    audit: usize,
    /// Rows of `secrets`, `secret_versions` and `audit_log`.
    rows: Vec<i64>,
}

fn snapshot(host: &Host) -> Snapshot {
    Snapshot {
        version: host.metadata("TARGET", None)["version"].clone(),
        versions: host.versions("TARGET", None),
        audit: host.audit().len(),
        rows: row_counts(host),
    }
}

fn row_counts(host: &Host) -> Vec<i64> {
    support::block_on(async {
        let db = support::open_database(host).await;
        let mut counts = Vec::new();
        for table in ["secrets", "secret_versions", "audit_log"] {
            let count: i64 =
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                    .fetch_one(&db)
                    .await
                    .unwrap();
            counts.push(count);
        }
        db.close().await;
        counts
    })
}

/// Asserts a one-line `error:` on stderr that contains one of `needles`.
#[track_caller]
fn fails_with_any(run: &Run, needles: &[&str]) {
    assert_ne!(run.code, 0, "succeeded: {run:#?}");
    let last = run.stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("error: "), "{run:#?}");
    assert!(
        needles.iter().any(|n| last.contains(n)),
        "none of {needles:?} in {last:?}"
    );
}

/// Every kind of write the CLI makes, each refused with one of `needles`.
fn every_write_fails(host: &Host, needles: &[&str]) {
    for args in [
        &["secrets", "set", "TARGET", "third"][..],
        &["secrets", "set", "NEWCOMER", "value"],
        &["secrets", "rollback", "TARGET", "1"],
        &["secrets", "delete", "TARGET"],
    ] {
        fails_with_any(&host.run(args), needles);
    }
}

/// Runs `fluxbase serve` and expects it to stop with an error within a minute.
fn serve_refuses(host: &Host) -> Run {
    let functions = support::fixtures("functions");
    let mut child = host
        .command(&[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--functions-dir",
            &functions.display().to_string(),
        ])
        .env("FLUXBASE_SERVICE_KEY", SERVICE_KEY)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("serve kept running on a database it cannot write");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    support::collect(child.wait_with_output().unwrap())
}

/// Makes a host's database read-only until dropped: the SQLite file immutable (`chattr +i`,
/// which holds for root too; `chmod 0444` when not root), or the PostgreSQL database's
/// transactions read-only.
enum ReadOnly {
    File(PathBuf),
    Chmod(PathBuf),
    Postgres { admin_url: String, database: String },
}

impl ReadOnly {
    fn make(host: &Host) -> Option<ReadOnly> {
        if host.backend() == Backend::Postgres {
            let admin_url = support::postgres_url("fault_storage").expect("URL checked");
            let database = database_name(host);
            postgres_admin(
                &admin_url,
                &format!("ALTER DATABASE {database} SET default_transaction_read_only = on"),
            );
            return Some(ReadOnly::Postgres {
                admin_url,
                database,
            });
        }
        let path = host.db_path();
        set_mode(&path, 0o444);
        if std::fs::OpenOptions::new().write(true).open(&path).is_err() {
            return Some(ReadOnly::Chmod(path));
        }
        set_mode(&path, 0o644); // root writes through any mode: make it immutable instead
        let made = Command::new("chattr").arg("+i").arg(&path).status();
        if made.is_ok_and(|s| s.success()) {
            return Some(ReadOnly::File(path));
        }
        eprintln!(
            "SKIPPED the read-only SQLite file: running as root and `chattr +i` failed on {}",
            path.display()
        );
        None
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        match self {
            ReadOnly::File(path) => {
                let _ = Command::new("chattr").arg("-i").arg(&*path).status();
            }
            ReadOnly::Chmod(path) => set_mode(path, 0o644),
            ReadOnly::Postgres {
                admin_url,
                database,
            } => postgres_admin(
                admin_url,
                &format!("ALTER DATABASE {database} RESET default_transaction_read_only"),
            ),
        }
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn postgres_admin(admin_url: &str, statement: &str) {
    support::block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(admin_url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(statement.to_owned()))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    });
}

#[test]
fn a_read_only_database_refuses_every_write_clearly_and_changes_nothing() {
    let host = Host::new();
    host.run(&["secrets", "set", "TARGET", "first"]).ok();
    host.run(&["secrets", "set", "TARGET", "second"]).ok();
    let before = snapshot(&host);
    let needles = [
        "attempt to write a readonly database",
        "read-only transaction",
    ];
    {
        let Some(_read_only) = ReadOnly::make(&host) else {
            return;
        };
        every_write_fails(&host, &needles);
        fails_with_any(&serve_refuses(&host), &needles);
    }
    assert_eq!(snapshot(&host), before);
    support::assert_database_is_whole(&host);
    host.run(&["secrets", "set", "TARGET", "third"]).ok();
    assert_eq!(host.versions("TARGET", None), [1, 2, 3]);
}

#[test]
fn a_postgres_database_turned_read_only_under_a_running_server_answers_503() {
    let Some(host) = Host::postgres("fault_storage::turned_read_only") else {
        return;
    };
    let server = Server::start(&host, &[]);
    let put = |value: &str| {
        server.request(
            "PUT",
            "/api/v1/admin/secrets/TARGET",
            true,
            Some(&json!({ "value": value }).to_string()),
        )
    };
    let created = server.request(
        "POST",
        "/api/v1/admin/secrets",
        true,
        Some(r#"{"name":"TARGET","value":"first"}"#),
    );
    assert_eq!(created.status, 201, "{created:#?}");
    assert_eq!(put("second").status, 200);
    let before = snapshot(&host);
    {
        let read_only = ReadOnly::make(&host).unwrap();
        // Sessions take the setting when they start: end the server's.
        let ReadOnly::Postgres {
            admin_url,
            database,
        } = &read_only
        else {
            unreachable!()
        };
        end_sessions(admin_url, database);
        for value in ["third", "fourth", "fifth"] {
            let answer = put(value);
            assert!(
                answer.status == 503 || answer.status == 500,
                "a write went through: {answer:#?}"
            );
        }
        put("sixth").error(503, "the database is read-only: the change was not made");
        assert_eq!(server.request("GET", "/health", false, None).status, 200);
    }
    end_sessions(
        &support::postgres_url("fault_storage").unwrap(),
        &database_name(&host),
    );
    assert_eq!(snapshot(&host), before);
    let answer = put("seventh");
    assert_eq!(answer.json()["version"], 3, "{answer:#?}");
}

/// Ends every session on `database` (but the caller's): new ones take its current settings.
fn end_sessions(admin_url: &str, database: &str) {
    postgres_admin(
        admin_url,
        &format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{database}' AND pid <> pg_backend_pid()"
        ),
    );
}

fn database_name(host: &Host) -> String {
    host.database_url().rsplit('/').next().unwrap().to_owned()
}

/// A small tmpfs, unmounted (lazily) when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(path: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(path).unwrap();
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .output();
        match output {
            Ok(output) if output.status.success() => Some(Tmpfs(path.to_owned())),
            Ok(output) => {
                eprintln!(
                    "SKIPPED the full disk: cannot mount a tmpfs (needs root): {}",
                    String::from_utf8_lossy(&output.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("SKIPPED the full disk: no mount command: {e}");
                None
            }
        }
    }

    /// Writes a file until the file system has no room left; removing it frees the room.
    fn fill(&self) -> PathBuf {
        let filler = self.0.join("filler");
        let mut file = std::fs::File::create(&filler).unwrap();
        for chunk in [64 * 1024, 4096, 1] {
            let bytes = vec![0u8; chunk];
            while file.write_all(&bytes).and_then(|()| file.flush()).is_ok() {}
        }
        filler
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_refuses_writes_clearly_changes_nothing_and_the_server_recovers() {
    // SQLite only: the disk that fills is the data directory's. (A PostgreSQL server's disk is
    // its own affair; its `disk_full` error answers 503 the same way.)
    let mut host = Host::sqlite();
    let mount_point = host.data_dir.parent().unwrap().join("small-disk");
    let Some(disk) = Tmpfs::mount(&mount_point, "8m") else {
        return;
    };
    host.data_dir = mount_point.join("data");

    let server = Server::start(&host, &[]);
    let create = server.request(
        "POST",
        "/api/v1/admin/secrets",
        true,
        Some(r#"{"name":"TARGET","value":"first"}"#),
    );
    assert_eq!(create.status, 201, "{create:#?}");
    let put = |value: &str| {
        server.request(
            "PUT",
            "/api/v1/admin/secrets/TARGET",
            true,
            Some(&json!({ "value": value }).to_string()),
        )
    };
    assert_eq!(put("second").json()["version"], 2);

    let filler = disk.fill();
    let big = "v".repeat(60 * 1024);
    // More refused writes than the pool has connections: each one's connection must come back
    // usable once there is room again.
    for value in ["third", &big, "fourth", &big, "fifth", "sixth"] {
        put(value).error(503, "the database's disk is full: the change was not made");
    }
    server
        .request(
            "POST",
            "/api/v1/admin/secrets",
            true,
            Some(r#"{"name":"NEWCOMER","value":"x"}"#),
        )
        .error(503, "disk is full");
    server
        .request(
            "POST",
            "/api/v1/admin/secrets/TARGET/rollback",
            true,
            Some(r#"{"version":1}"#),
        )
        .error(503, "disk is full");
    // Reads and invocations go on (the invocation's record is lost, and logged as such).
    let history = server.request("GET", "/api/v1/admin/secrets/TARGET/history", true, None);
    assert_eq!(history.json().as_array().unwrap().len(), 2);
    assert_eq!(
        server
            .request("GET", "/functions/v1/hello", false, None)
            .status,
        200
    );

    std::fs::remove_file(&filler).unwrap();
    for expected in 3..=8 {
        assert_eq!(
            put(&format!("after-{expected}")).json()["version"],
            expected
        );
    }
    assert_eq!(server.terminate(), Some(0));
    let before = snapshot(&host);
    assert_eq!(before.versions, (1..=8).collect::<Vec<_>>());

    // The CLI on a full disk: a clear error at once, not a 30 s wait for a connection.
    let filler = disk.fill();
    let started = Instant::now();
    for args in [
        &["secrets", "set", "TARGET", "ninth"][..],
        &["secrets", "set", "NEWCOMER", "value"],
    ] {
        fails_with_any(
            &host.run(args),
            &["(is the disk full?)", "database or disk is full"],
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "{:?}",
        started.elapsed()
    );
    std::fs::remove_file(&filler).unwrap();
    assert_eq!(snapshot(&host), before);
    support::assert_database_is_whole(&host);
    drop(disk);
}

#[test]
fn a_sqlite_wal_file_made_unwritable_under_a_running_server_answers_503() {
    let host = Host::sqlite();
    let server = Server::start(&host, &[]);
    let created = server.request(
        "POST",
        "/api/v1/admin/secrets",
        true,
        Some(r#"{"name":"TARGET","value":"first"}"#),
    );
    assert_eq!(created.status, 201, "{created:#?}");
    let mut wal = host.db_path().into_os_string();
    wal.push("-wal");
    let wal = PathBuf::from(wal);
    assert!(wal.exists(), "no WAL file beside the database");
    let made = Command::new("chattr").arg("+i").arg(&wal).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("SKIPPED: `chattr +i` failed on {}", wal.display());
        return;
    }
    let answer = server.request(
        "PUT",
        "/api/v1/admin/secrets/TARGET",
        true,
        Some(&json!({ "value": "second" }).to_string()),
    );
    let _ = Command::new("chattr").arg("-i").arg(&wal).status();
    answer.error(503, "the change was not made");
    assert!(!answer.body.contains("internal error"), "{answer:#?}");
    assert_eq!(server.request("GET", "/health", false, None).status, 200);
}
