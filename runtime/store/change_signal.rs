//! A change signal shared by every process that opens one SQLite file: `<database>.changes`,
//! a random 64-bit mark rewritten after every secret or settings write commits and read with one
//! `pread`, so a process can skip reading the generation when nothing was written. PostgreSQL
//! hosts share no file, so there the generation is always read. The file holds no secret, and
//! this module runs no query: it only tells [`super::generation`] when one can be skipped.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a generation read behind an unchanged mark is trusted. The mark is rewritten after
/// the commit, so a writer that dies between the two leaves the mark as it was; past this age
/// the generation is read again, which bounds how long such a change can go unseen.
const TRUST_FOR: Duration = Duration::from_secs(1);

/// See the module documentation.
#[derive(Debug)]
pub(super) struct ChangeSignal {
    /// The shared mark, when the database is a file and the mark file could be opened.
    file: Option<File>,
    /// Changes made by this process, so its own writes are seen even without the file.
    local: AtomicU64,
    /// The last generation read, and the marks it was read behind.
    memo: Mutex<Option<Memo>>,
}

/// A generation read from the database and the marks read just before it.
#[derive(Debug, Clone, Copy)]
struct Memo {
    marks: Marks,
    generation: i64,
    read_at: Instant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Marks {
    shared: u64,
    local: u64,
}

impl ChangeSignal {
    /// The signal of the SQLite database at `database`. A mark file that cannot be opened (a
    /// read-only directory) leaves the signal off: the generation is then always read.
    pub(super) fn for_sqlite_file(database: &Path) -> Self {
        let mut name = database.as_os_str().to_owned();
        name.push(".changes");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&name);
        match file {
            Ok(file) => ChangeSignal::with_file(Some(file)),
            Err(error) => {
                tracing::warn!(
                    path = %Path::new(&name).display(),
                    %error,
                    "cannot open the change mark file; the store generation will be read on every execution"
                );
                ChangeSignal::off()
            }
        }
    }

    /// No signal: every caller reads the generation from the database.
    pub(super) fn off() -> Self {
        ChangeSignal {
            file: None,
            local: AtomicU64::new(0),
            memo: Mutex::new(None),
        }
    }

    fn with_file(file: Option<File>) -> Self {
        ChangeSignal {
            file,
            ..ChangeSignal::off()
        }
    }

    /// The memoised generation, if nothing was written since it was read and it is recent.
    pub(super) fn unchanged_generation(&self) -> Option<i64> {
        let marks = self.marks()?;
        let memo = (*self.memo.lock().expect("change memo poisoned"))?;
        (memo.marks == marks && memo.read_at.elapsed() < TRUST_FOR).then_some(memo.generation)
    }

    /// Keeps `generation`, read from the database after `marks` were read.
    pub(super) fn remember(&self, marks: Option<Marks>, generation: i64) {
        if let Some(marks) = marks {
            *self.memo.lock().expect("change memo poisoned") = Some(Memo {
                marks,
                generation,
                read_at: Instant::now(),
            });
        }
    }

    /// Tells every process that a change has committed.
    pub(super) fn announce(&self) {
        self.local.fetch_add(1, Ordering::AcqRel);
        if let Some(file) = &self.file {
            let mark = uuid::Uuid::new_v4().as_u64_pair().0;
            if let Err(error) = file.write_all_at(&mark.to_le_bytes(), 0) {
                // Other processes see the change within `TRUST_FOR` anyway.
                tracing::warn!(%error, "cannot write the change mark file");
            }
        }
    }

    /// The marks as they are now: read them before asking the database for the generation,
    /// and hand them to [`ChangeSignal::remember`] with what it answered. `None` when off.
    pub(super) fn marks(&self) -> Option<Marks> {
        let file = self.file.as_ref()?;
        let mut bytes = [0u8; 8];
        // A new, empty file reads short: that is the mark 0.
        let shared = match file.read_at(&mut bytes, 0) {
            Ok(8) => u64::from_le_bytes(bytes),
            Ok(_) => 0,
            Err(_) => return None,
        };
        Some(Marks {
            shared,
            local: self.local.load(Ordering::Acquire),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_in_another_process_is_seen_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("store.db");
        let reader = ChangeSignal::for_sqlite_file(&db);
        let writer = ChangeSignal::for_sqlite_file(&db); // as another process would open it

        let marks = reader.marks();
        reader.remember(marks, 7);
        assert_eq!(reader.unchanged_generation(), Some(7));

        writer.announce();
        assert_eq!(reader.unchanged_generation(), None);
    }

    #[test]
    fn own_changes_are_seen_and_the_memo_ages() {
        let dir = tempfile::tempdir().unwrap();
        let signal = ChangeSignal::for_sqlite_file(&dir.path().join("store.db"));
        let marks = signal.marks();
        signal.remember(marks, 1);
        signal.announce();
        assert_eq!(signal.unchanged_generation(), None);

        let marks = signal.marks();
        signal.remember(marks, 2);
        assert_eq!(signal.unchanged_generation(), Some(2));
        signal.memo.lock().unwrap().as_mut().unwrap().read_at -= TRUST_FOR;
        assert_eq!(signal.unchanged_generation(), None);
    }

    #[test]
    fn off_never_answers() {
        let signal = ChangeSignal::off();
        signal.remember(signal.marks(), 3);
        assert_eq!(signal.unchanged_generation(), None);
    }
}
