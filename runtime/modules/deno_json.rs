//! The `deno.json` of a functions directory (else its `deno.jsonc`; both are JSONC, as Deno
//! reads them), and what it says about modules: the import map (its `imports` and `scopes`,
//! else the file its `importMap` names, as in Deno 2: `imports` win over `importMap`) and the
//! lock file (`lock`: `false`, a path, or `{ "path", "frozen" }`; default `deno.lock` beside
//! it). Every other field is Deno's business and ignored. A file that cannot be read, parsed or
//! used is an error naming it. It reads only files of the functions directory.

use std::path::{Path, PathBuf};

use deno_core::ModuleSpecifier;
use import_map::ImportMap;
use serde_json::Value;

use super::lock::LockFile;

/// The names a directory's configuration file may have, in the order Deno looks for them.
const CONFIG_NAMES: [&str; 2] = ["deno.json", "deno.jsonc"];
/// The lock file of a directory whose configuration names none.
const DEFAULT_LOCK: &str = "deno.lock";

/// What a functions directory's configuration says about modules.
#[derive(Debug, Default)]
pub struct DirConfig {
    /// The import map, if the configuration has one.
    pub import_map: Option<ImportMap>,
    /// The lock file remote modules are checked against (`None`: `"lock": false`).
    pub lock: Option<LockFile>,
}

impl DirConfig {
    /// The configuration of `root` (canonical): its `deno.json` or `deno.jsonc`, or none.
    pub fn read(root: &Path) -> Result<Self, String> {
        let Some(path) = CONFIG_NAMES
            .iter()
            .map(|name| root.join(name))
            .find(|path| path.is_file())
        else {
            return Ok(DirConfig {
                import_map: None,
                lock: Some(LockFile::new(root.join(DEFAULT_LOCK), false)),
            });
        };
        let fail = |why: String| format!("{}: {why}", path.display());
        let text = std::fs::read_to_string(&path).map_err(|e| fail(e.to_string()))?;
        let json: Value =
            jsonc_parser::parse_to_serde_value(&text, &jsonc_parser::ParseOptions::default())
                .map_err(|e| fail(format!("not valid JSON(C): {e}")))?;
        let Value::Object(fields) = json else {
            return Err(fail("must hold a JSON object".into()));
        };
        let base = ModuleSpecifier::from_file_path(&path)
            .map_err(|_| fail("is not an absolute path".into()))?;
        let import_map = if fields.contains_key("imports") || fields.contains_key("scopes") {
            let mut value = serde_json::Map::new();
            for key in ["imports", "scopes"] {
                if let Some(field) = fields.get(key) {
                    value.insert(key.to_owned(), field.clone());
                }
            }
            let value = import_map::ext::expand_import_map_value(Value::Object(value));
            Some(parse_import_map(base.clone(), value).map_err(fail)?)
        } else {
            match fields.get("importMap") {
                None => None,
                Some(Value::String(file)) => Some(
                    import_map_file(root, &base, file)
                        .map_err(|why| fail(format!("\"importMap\" {file:?}: {why}")))?,
                ),
                Some(_) => return Err(fail("\"importMap\" must be a path (a string)".into())),
            }
        };
        let lock = match fields.get("lock") {
            None | Some(Value::Bool(true)) => Some(LockFile::new(root.join(DEFAULT_LOCK), false)),
            Some(Value::Bool(false)) => None,
            Some(Value::String(file)) => Some(LockFile::new(
                inside(root, &base, file).map_err(|why| fail(format!("\"lock\": {why}")))?,
                false,
            )),
            Some(Value::Object(lock)) => {
                let path = match lock.get("path") {
                    None => root.join(DEFAULT_LOCK),
                    Some(Value::String(file)) => {
                        inside(root, &base, file).map_err(|why| fail(format!("\"lock\": {why}")))?
                    }
                    Some(_) => return Err(fail("\"lock.path\" must be a string".into())),
                };
                let frozen = match lock.get("frozen") {
                    None => false,
                    Some(Value::Bool(frozen)) => *frozen,
                    Some(_) => return Err(fail("\"lock.frozen\" must be true or false".into())),
                };
                Some(LockFile::new(path, frozen))
            }
            Some(_) => {
                return Err(fail(
                    "\"lock\" must be true, false, a path or { \"path\", \"frozen\" }".into(),
                ));
            }
        };
        Ok(DirConfig { import_map, lock })
    }
}

/// The import map of `value`, whose relative addresses are relative to `base`.
fn parse_import_map(base: ModuleSpecifier, value: Value) -> Result<ImportMap, String> {
    let parsed = import_map::parse_from_value(base, value)
        .map_err(|e| format!("invalid import map: {e}"))?;
    for diagnostic in &parsed.diagnostics {
        tracing::warn!("import map: {diagnostic}");
    }
    Ok(parsed.import_map)
}

/// The import map of the file `file` names (relative to the configuration file), which must be
/// a file of the functions directory (Deno, too, reads only `file:` import maps named there).
fn import_map_file(root: &Path, base: &ModuleSpecifier, file: &str) -> Result<ImportMap, String> {
    let path = inside(root, base, file)?;
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not valid JSON: {e}", path.display()))?;
    let url = ModuleSpecifier::from_file_path(&path)
        .map_err(|_| format!("{} is not an absolute path", path.display()))?;
    parse_import_map(url, value).map_err(|e| format!("{}: {e}", path.display()))
}

/// The path `file` names relative to the configuration file `base`, refused unless it lies in
/// the functions directory `root` (canonical), however it is spelled.
fn inside(root: &Path, base: &ModuleSpecifier, file: &str) -> Result<PathBuf, String> {
    let url = base.join(file).map_err(|e| format!("not a path: {e}"))?;
    let path = url
        .to_file_path()
        .map_err(|_| "only files of the functions directory can be named".to_owned())?;
    // `..` is gone once joined as a URL; the nearest existing ancestor is canonicalized for a
    // symbolic link leading out.
    let real = path
        .ancestors()
        .skip(1)
        .find_map(|ancestor| std::fs::canonicalize(ancestor).ok())
        .unwrap_or_default();
    if !path.starts_with(root) || !real.starts_with(root) {
        return Err(format!(
            "{} is outside the functions directory",
            path.display()
        ));
    }
    Ok(path)
}
