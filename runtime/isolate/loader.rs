//! Module loader for function code: `file://` `.ts/.tsx/.js/.mjs/.jsx/.json` from disk, confined
//! to one root directory, TypeScript transpiled with deno_ast (no type checking); `node:`
//! builtins; `npm:` packages and the files of installed packages ([`NpmModules`]). Remote
//! (`http(s):`, `jsr:`) imports are rejected, and no file outside the root or the npm store is
//! read.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;
use std::path::PathBuf;

use deno_ast::MediaType;
use deno_ast::ParseParams;
use deno_ast::SourceMapOption;
use deno_core::ModuleLoadOptions;
use deno_core::ModuleLoadReferrer;
use deno_core::ModuleLoadResponse;
use deno_core::ModuleLoader;
use deno_core::ModuleSource;
use deno_core::ModuleSourceCode;
use deno_core::ModuleSpecifier;
use deno_core::ModuleType;
use deno_core::ResolutionKind;
use deno_core::error::ModuleLoaderError;
use deno_core::resolve_import;
use deno_error::JsErrorBox;

use super::npm_modules::NpmModules;

/// Loads modules from a directory tree, transpiling TypeScript/JSX.
///
/// Keeps the source maps of transpiled files so stack traces point at the
/// original `.ts` lines.
pub struct FsModuleLoader {
    root: RefCell<Option<Root>>,
    /// Installed npm packages, when the host keeps them (a data directory).
    npm: RefCell<Option<NpmModules>>,
    source_maps: RefCell<HashMap<String, Vec<u8>>>,
}

/// The directory a loader serves: as given (made absolute) and canonicalized. A module's path is
/// first judged as written against either, before the file system is asked anything about it.
struct Root {
    given: PathBuf,
    canonical: PathBuf,
}

impl Root {
    fn holds(&self, path: &Path) -> bool {
        path.starts_with(&self.given) || path.starts_with(&self.canonical)
    }
}

impl FsModuleLoader {
    /// A loader that only serves files below `root` (canonicalized).
    pub fn new(root: impl AsRef<Path>) -> std::io::Result<Self> {
        let loader = Self::unrooted();
        loader.set_root(root)?;
        Ok(loader)
    }

    /// A loader that serves nothing until [`FsModuleLoader::set_root`] is called: what a
    /// pre-booted isolate holds before it is given a function.
    pub fn unrooted() -> Self {
        Self {
            root: RefCell::new(None),
            npm: RefCell::new(None),
            source_maps: RefCell::new(HashMap::new()),
        }
    }

    /// Confines the loader to `root` (canonicalized) and returns that path.
    pub fn set_root(&self, root: impl AsRef<Path>) -> std::io::Result<PathBuf> {
        let given = std::path::absolute(root.as_ref())?;
        let canonical = std::fs::canonicalize(root)?;
        *self.root.borrow_mut() = Some(Root {
            given,
            canonical: canonical.clone(),
        });
        Ok(canonical)
    }

    /// Lets the function import `npm:` packages from `npm` (none: `npm:` imports fail).
    pub fn set_npm(&self, npm: Option<NpmModules>) {
        *self.npm.borrow_mut() = npm;
    }

    /// A file of an installed npm package, as an ES module (CommonJS wrapped); `None` when
    /// `path` (as written) is not in the npm store.
    fn load_npm_file(
        &self,
        specifier: &ModuleSpecifier,
        path: &Path,
    ) -> Option<Result<ModuleSource, ModuleLoaderError>> {
        let npm = self.npm.borrow();
        let npm = npm.as_ref().filter(|npm| npm.holds(path))?;
        Some((|| {
            let canonical = std::fs::canonicalize(path).map_err(|e| {
                JsErrorBox::generic(format!("Module not found \"{specifier}\": {e}"))
            })?;
            // A link inside a package may lead out of the store.
            if !npm.holds(&canonical) {
                return Err(JsErrorBox::generic(format!(
                    "Module \"{specifier}\" is outside the npm package store"
                )));
            }
            let canonical = canonical.as_path();
            let code = std::fs::read_to_string(canonical)
                .map_err(|e| JsErrorBox::generic(format!("Failed to read \"{specifier}\": {e}")))?;
            if MediaType::from_path(canonical) == MediaType::Json {
                return Ok(ModuleSource::new(
                    ModuleType::Json,
                    ModuleSourceCode::String(code.into()),
                    specifier,
                    None,
                ));
            }
            let code = npm.module_source(specifier, canonical, code)?;
            Ok(ModuleSource::new(
                ModuleType::JavaScript,
                ModuleSourceCode::String(code.into()),
                specifier,
                None,
            ))
        })())
    }

    fn load_sync(&self, specifier: &ModuleSpecifier) -> Result<ModuleSource, ModuleLoaderError> {
        let path = specifier.to_file_path().map_err(|_| {
            JsErrorBox::generic(format!("Only file: modules can be loaded: {specifier}"))
        })?;
        let outside = || {
            JsErrorBox::generic(format!(
                "Module \"{specifier}\" is outside the function directory"
            ))
        };
        // A path outside the directory as written is refused before the file system is asked,
        // so the answer is the same whether something exists there or not.
        if let Some(loaded) = self.load_npm_file(specifier, &path) {
            return loaded;
        }
        let root = self.root.borrow();
        let root = root.as_ref().ok_or_else(outside)?;
        if !root.holds(&path) {
            return Err(outside());
        }
        let canonical = std::fs::canonicalize(&path)
            .map_err(|e| JsErrorBox::generic(format!("Module not found \"{specifier}\": {e}")))?;
        // A symbolic link inside the directory may still lead out of it.
        if !canonical.starts_with(&root.canonical) {
            return Err(outside());
        }
        let media_type = MediaType::from_path(&path);
        let (module_type, transpile) = match media_type {
            MediaType::JavaScript | MediaType::Mjs => (ModuleType::JavaScript, false),
            MediaType::Jsx | MediaType::TypeScript | MediaType::Mts | MediaType::Tsx => {
                (ModuleType::JavaScript, true)
            }
            MediaType::Json => (ModuleType::Json, false),
            _ => {
                return Err(JsErrorBox::generic(format!(
                    "Unsupported module type: {specifier}"
                )));
            }
        };
        let code = std::fs::read_to_string(&canonical)
            .map_err(|e| JsErrorBox::generic(format!("Failed to read \"{specifier}\": {e}")))?;
        let code = if transpile {
            let transpiled = super::transpile_cache::transpile(specifier, code, media_type)?;
            if let Some(map) = &transpiled.source_map {
                self.source_maps
                    .borrow_mut()
                    .insert(specifier.to_string(), map.clone());
            }
            transpiled.code.clone()
        } else {
            code
        };
        Ok(ModuleSource::new(
            module_type,
            ModuleSourceCode::String(code.into()),
            specifier,
            None,
        ))
    }
}

/// Transpiles TS/TSX/JSX to JS. Parse errors carry `file:line:col` in their
/// message (deno_ast's diagnostic formatting).
pub fn transpile_module(
    specifier: &ModuleSpecifier,
    code: String,
    media_type: MediaType,
) -> Result<(String, Option<Vec<u8>>), JsErrorBox> {
    let parsed = deno_ast::parse_module(ParseParams {
        specifier: specifier.clone(),
        text: code.into(),
        media_type,
        capture_tokens: false,
        scope_analysis: false,
        maybe_syntax: None,
    })
    .map_err(|diagnostic| JsErrorBox::new("SyntaxError", format!("{diagnostic}")))?;
    let emitted = parsed
        .transpile(
            &deno_ast::TranspileOptions {
                imports_not_used_as_values: deno_ast::ImportsNotUsedAsValues::Remove,
                decorators: deno_ast::DecoratorsTranspileOption::Ecma,
                ..Default::default()
            },
            &deno_ast::TranspileModuleOptions { module_kind: None },
            &deno_ast::EmitOptions {
                source_map: SourceMapOption::Separate,
                inline_sources: true,
                ..Default::default()
            },
        )
        .map_err(|e| JsErrorBox::new("SyntaxError", format!("{specifier}: {e}")))?
        .into_source();
    Ok((emitted.text, emitted.source_map.map(|m| m.into_bytes())))
}

impl FsModuleLoader {
    /// `npm:` specifiers, and every import made by a module of an installed package.
    fn resolve_npm(
        &self,
        specifier: &str,
        referrer: &str,
    ) -> Option<Result<ModuleSpecifier, ModuleLoaderError>> {
        let from_package = || {
            let path = ModuleSpecifier::parse(referrer).ok()?.to_file_path().ok()?;
            let npm = self.npm.borrow();
            Some(npm.as_ref()?.holds(&path))
        };
        let is_npm = specifier.starts_with("npm:");
        if !is_npm && from_package() != Some(true) {
            return None;
        }
        let npm = self.npm.borrow();
        let Some(npm) = npm.as_ref() else {
            return Some(Err(JsErrorBox::type_error(format!(
                "Import of \"{specifier}\" is not possible: this host keeps no npm packages (it has no data directory)"
            ))));
        };
        let referrer = match ModuleSpecifier::parse(referrer) {
            Ok(referrer) => referrer,
            Err(e) => return Some(Err(JsErrorBox::from_err(e))),
        };
        Some(if is_npm {
            npm.resolve_npm_specifier(specifier, &referrer)
        } else {
            npm.resolve_from_package(specifier, &referrer)
        })
    }
}

impl ModuleLoader for FsModuleLoader {
    fn resolve(
        &self,
        specifier: &str,
        referrer: &str,
        _kind: ResolutionKind,
    ) -> Result<ModuleSpecifier, ModuleLoaderError> {
        if let Some(builtin) = super::node::builtin_specifier(specifier)? {
            return Ok(builtin);
        }
        if let Some(resolved) = self.resolve_npm(specifier, referrer) {
            return resolved;
        }
        let resolved = resolve_import(specifier, referrer).map_err(JsErrorBox::from_err)?;
        if resolved.scheme() != "file" {
            return Err(JsErrorBox::type_error(format!(
                "Import of \"{resolved}\" is not allowed: only relative/file imports are supported"
            )));
        }
        Ok(resolved)
    }

    fn load(
        &self,
        module_specifier: &ModuleSpecifier,
        _maybe_referrer: Option<&ModuleLoadReferrer>,
        _options: ModuleLoadOptions,
    ) -> ModuleLoadResponse {
        ModuleLoadResponse::Sync(self.load_sync(module_specifier))
    }

    fn get_source_map(&self, specifier: &str) -> Option<Cow<'_, [u8]>> {
        self.source_maps
            .borrow()
            .get(specifier)
            .map(|m| Cow::Owned(m.clone()))
    }
}
