//! Opening a pool for a database URL (SQLite file lock and create mode included) and applying
//! that database kind's migrations. A URL is shown only through [`redact_url`] (no password).
//! It knows nothing of the tables' meaning: queries live in the other store modules.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;

use crate::{Error, Result};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// How long a SQLite writer waits for another one to finish before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// The database kinds a store can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file: the default, nothing to install.
    Sqlite,
    /// A PostgreSQL server, which several hosts can share.
    Postgres,
}

impl Backend {
    /// Picks the database kind from a URL's scheme.
    pub fn of_url(url: &str) -> Result<Self> {
        let scheme = url.split(':').next().unwrap_or_default();
        match scheme {
            "sqlite" => Ok(Backend::Sqlite),
            "postgres" | "postgresql" => Ok(Backend::Postgres),
            _ => Err(Error::invalid(format!(
                "unsupported database URL scheme {scheme:?}: use sqlite://PATH or postgres://..."
            ))),
        }
    }
}

/// The URL of the embedded database in `data_dir`.
pub fn default_sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("fluxbase.db").display())
}

pub(super) async fn connect(url: &str) -> Result<(AnyPool, Backend)> {
    sqlx::any::install_default_drivers();
    let backend = Backend::of_url(url)?;
    let pool = match backend {
        Backend::Sqlite => {
            let url_rwc = with_create_mode(url);
            // The pool retries a connection that fails to open until its acquire timeout and
            // then reports only the timeout. One connection opened first reports the cause (a
            // full disk, a read-only directory) at once.
            probe_sqlite(&url_rwc)
                .await
                .map_err(|e| cannot_open(url, e))?;
            AnyPoolOptions::new()
                .max_connections(4)
                .after_connect(|conn, _meta| {
                    Box::pin(async move {
                        sqlx::raw_sql(SQLITE_SETUP).execute(conn).await?;
                        Ok(())
                    })
                })
                .after_release(|conn, _meta| {
                    Box::pin(async move {
                        // A full disk can make SQLite roll a transaction back by itself; sqlx
                        // then fails to roll it back again and keeps counting it as open,
                        // which makes every later `BEGIN` on the connection fail. The ping
                        // waits for that rollback; a connection still in a transaction after
                        // it is closed rather than reused.
                        sqlx::Connection::ping(conn).await?;
                        Ok(!sqlx::Connection::is_in_transaction(conn))
                    })
                })
                .acquire_timeout(SQLITE_BUSY_TIMEOUT)
                .connect(&url_rwc)
                .await
        }
        Backend::Postgres => AnyPoolOptions::new().max_connections(8).connect(url).await,
    };
    let pool = pool.map_err(|e| cannot_open(url, e))?;
    Ok((pool, backend))
}

/// What every SQLite connection runs first. `secure_delete` zeroes the bytes of deleted rows, so
/// a destroyed secret leaves no ciphertext in the file's free space.
const SQLITE_SETUP: &str = "PRAGMA busy_timeout = 30000; PRAGMA journal_mode = WAL; \
     PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;";

/// Opens one connection to a SQLite database and sets it up, as the pool will.
async fn probe_sqlite(url: &str) -> std::result::Result<(), sqlx::Error> {
    use sqlx::Connection;
    let mut conn = sqlx::AnyConnection::connect(url).await?;
    sqlx::raw_sql(SQLITE_SETUP).execute(&mut conn).await?;
    conn.close().await
}

fn cannot_open(url: &str, error: sqlx::Error) -> Error {
    let hint = match &error {
        // SQLITE_FULL, and SQLITE_IOERR_SHMSIZE (the shared-memory file cannot grow).
        sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("13" | "4874")) => {
            " (is the disk full?)"
        }
        _ => "",
    };
    Error::invalid(format!(
        "cannot open database {}: {error}{hint}",
        redact_url(url)
    ))
}

pub(super) async fn migrate(pool: &AnyPool, backend: Backend, url: &str) -> Result<()> {
    match backend {
        Backend::Postgres => POSTGRES_MIGRATIONS.run(pool).await?,
        Backend::Sqlite => {
            // sqlx takes no lock for SQLite migrations; hold a file lock so that processes
            // starting together on a fresh file do not race to create the same tables.
            let _guard = match sqlite_path(url) {
                Some(path) => Some(lock_file(&path)?),
                None => None,
            };
            SQLITE_MIGRATIONS.run(pool).await?;
        }
    }
    Ok(())
}

/// A URL for display: the password of a PostgreSQL URL is replaced.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Adds `mode=rwc` to a SQLite URL that names no mode, so a missing file is created.
fn with_create_mode(url: &str) -> String {
    if url.contains("mode=") || url.contains(":memory:") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

/// The file a SQLite URL points at, if it is a file.
pub(super) fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

fn lock_file(db: &Path) -> Result<std::fs::File> {
    let mut name = db.as_os_str().to_owned();
    name.push(".migrate-lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&name)
        .map_err(|e| Error::io(format!("cannot open {}", Path::new(&name).display()), e))?;
    file.lock()
        .map_err(|e| Error::io(format!("cannot lock {}", Path::new(&name).display()), e))?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sqlite_paths() {
        assert_eq!(
            sqlite_path("sqlite:///a/b.db?mode=rwc"),
            Some("/a/b.db".into())
        );
        assert_eq!(sqlite_path("sqlite://rel.db"), Some("rel.db".into()));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
    }

    #[test]
    fn hides_passwords() {
        assert_eq!(
            redact_url("postgres://u:pw@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("postgres://h/db"), "postgres://h/db");
    }
}
