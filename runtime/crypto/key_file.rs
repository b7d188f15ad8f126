//! A master key kept in a file of the data directory (`master.key`, mode 0600), for the embedded
//! store when no key is given in the environment, and its `.next` file during rotation.
//! It reads and writes that file only; which key to use is `config`'s decision.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::MasterKey;
use crate::{Error, Result};

/// The file that holds a master key as base64.
#[derive(Debug, Clone)]
pub struct KeyFile {
    path: PathBuf,
}

impl KeyFile {
    /// The key file at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        KeyFile { path: path.into() }
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the file exists.
    pub fn exists(&self) -> bool {
        self.path.exists()
    }

    /// The file that holds the next key while a rotation is under way (`master.key.next`).
    pub fn next(&self) -> KeyFile {
        let mut name = self.path.as_os_str().to_owned();
        name.push(".next");
        KeyFile::new(name)
    }

    /// Reads the key.
    pub fn load(&self) -> Result<MasterKey> {
        let text = zeroize::Zeroizing::new(
            std::fs::read(&self.path)
                .map_err(|e| Error::io(format!("cannot read {}", self.path.display()), e))?,
        );
        MasterKey::parse(&text, &format!("the key in {}", self.path.display()))
    }

    /// Writes `key` to a new file readable by its owner only; refuses to replace an existing file.
    pub fn create(&self, key: &MasterKey) -> Result<()> {
        let context = || format!("cannot write {}", self.path.display());
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(&self.path)
            .map_err(|e| Error::io(context(), e))?;
        let encoded = key.to_base64();
        let written = file
            .write_all(encoded.as_bytes())
            .and_then(|()| file.write_all(b"\n"))
            .and_then(|()| file.sync_all());
        if let Err(e) = written {
            let _ = std::fs::remove_file(&self.path);
            return Err(Error::io(context(), e));
        }
        Ok(())
    }

    /// Moves `other` into this file's place, atomically.
    pub fn replace_with(&self, other: &KeyFile) -> Result<()> {
        std::fs::rename(&other.path, &self.path).map_err(|e| {
            Error::io(
                format!(
                    "cannot move {} to {}",
                    other.path.display(),
                    self.path.display()
                ),
                e,
            )
        })?;
        if let Some(dir) = self.path.parent() {
            // Make the rename durable; failure to sync a directory is not worth failing over.
            let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
        }
        Ok(())
    }

    /// Removes the file if it exists.
    pub fn remove(&self) -> Result<()> {
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(
                format!("cannot remove {}", self.path.display()),
                e,
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_owner_only_file_and_loads_it_back() {
        let dir = tempfile::tempdir().unwrap();
        let file = KeyFile::new(dir.path().join("master.key"));
        let key = MasterKey::generate();
        file.create(&key).unwrap();
        assert_eq!(file.load().unwrap().id(), key.id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(file.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(
            file.create(&MasterKey::generate()).is_err(),
            "overwrote a key"
        );
        assert_eq!(file.load().unwrap().id(), key.id());
    }
}
