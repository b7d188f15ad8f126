//! Module loader for function code: `file://` `.ts/.tsx/.js/.mjs/.jsx/.json` from disk, confined
//! to one root directory, and `https:`/`http:` modules through `crate::modules` (which resolves
//! every specifier, the import map included, and fetches, caches and locks remote sources);
//! TypeScript transpiled with deno_ast (no type checking). No file outside the root is read.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;
use std::path::PathBuf;
use std::rc::Rc;

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
use deno_error::JsErrorBox;

use super::npm_modules::NpmModules;
use crate::modules::FunctionModules;

/// Source maps of the transpiled modules of one isolate, by module URL.
type SourceMaps = Rc<RefCell<HashMap<String, Vec<u8>>>>;

/// Loads modules from a directory tree, transpiling TypeScript/JSX.
///
/// Keeps the source maps of transpiled files so stack traces point at the
/// original `.ts` lines.
pub struct FsModuleLoader {
    root: RefCell<Option<Root>>,
    modules: RefCell<Option<Rc<FunctionModules>>>,
    /// Installed npm packages, when the host keeps them (a data directory).
    npm: RefCell<Option<NpmModules>>,
    source_maps: SourceMaps,
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
            modules: RefCell::new(None),
            npm: RefCell::new(None),
            source_maps: SourceMaps::default(),
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

    /// Resolves and loads the function's imports with `modules`: its directory's import map
    /// and lock file, the host's module cache. Without it, only files resolve.
    pub fn set_modules(&self, modules: FunctionModules) {
        *self.modules.borrow_mut() = Some(Rc::new(modules));
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
            let code = std::fs::read_to_string(&canonical)
                .map_err(|e| JsErrorBox::generic(format!("Failed to read \"{specifier}\": {e}")))?;
            if MediaType::from_path(&canonical) == MediaType::Json {
                return Ok(ModuleSource::new(
                    ModuleType::Json,
                    ModuleSourceCode::String(code.into()),
                    specifier,
                    None,
                ));
            }
            let code = npm.module_source(specifier, &canonical, code)?;
            Ok(ModuleSource::new(
                ModuleType::JavaScript,
                ModuleSourceCode::String(code.into()),
                specifier,
                None,
            ))
        })())
    }

    /// Resolves an import made by a module of an installed npm package, as Node does (no
    /// import map applies inside a package); `None` for any other referrer.
    fn resolve_in_package(
        &self,
        specifier: &str,
        referrer: &str,
    ) -> Option<Result<ModuleSpecifier, ModuleLoaderError>> {
        let referrer = ModuleSpecifier::parse(referrer).ok()?;
        let path = referrer.to_file_path().ok()?;
        let npm = self.npm.borrow();
        let npm = npm.as_ref().filter(|npm| npm.holds(&path))?;
        Some(npm.resolve_from_package(specifier, &referrer))
    }

    /// The file an `npm:` specifier leads to, the package installed on first use.
    fn resolve_npm(
        &self,
        specifier: &ModuleSpecifier,
        referrer: &str,
    ) -> Result<ModuleSpecifier, ModuleLoaderError> {
        let npm = self.npm.borrow();
        let npm = npm.as_ref().ok_or_else(|| {
            JsErrorBox::type_error(format!(
                "Import of \"{specifier}\" is not possible: this host keeps no npm packages (it has no data directory)"
            ))
        })?;
        let referrer = ModuleSpecifier::parse(referrer)
            .unwrap_or_else(|_| ModuleSpecifier::parse("file:///").expect("a URL"));
        npm.resolve_npm_specifier(specifier.as_str(), &referrer)
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
        if let Some(loaded) = self.load_npm_file(specifier, &path) {
            return loaded;
        }
        // A path outside the directory as written is refused before the file system is asked,
        // so the answer is the same whether something exists there or not.
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
        let code = std::fs::read_to_string(&canonical)
            .map_err(|e| JsErrorBox::generic(format!("Failed to read \"{specifier}\": {e}")))?;
        module_source(
            specifier,
            specifier,
            code,
            MediaType::from_path(&path),
            &self.source_maps,
        )
    }

    /// Loads the remote module `specifier` (found, after redirects, at its final URL).
    fn load_remote(&self, specifier: &ModuleSpecifier) -> ModuleLoadResponse {
        let modules = self.modules.borrow().clone();
        let source_maps = self.source_maps.clone();
        let specifier = specifier.clone();
        ModuleLoadResponse::Async(Box::pin(async move {
            let Some(modules) = modules else {
                return Err(JsErrorBox::type_error(format!(
                    "Import \"{specifier}\" failed: no function is loaded"
                )));
            };
            let module = modules.load_remote(&specifier).await?;
            module_source(
                &specifier,
                &module.specifier,
                module.text,
                module.media_type,
                &source_maps,
            )
        }))
    }
}

/// The module `requested` found at `found` (another URL after a redirect), from its source
/// `code`: TypeScript and JSX transpiled (their source maps kept in `source_maps`), JSON as a
/// JSON module.
fn module_source(
    requested: &ModuleSpecifier,
    found: &ModuleSpecifier,
    code: String,
    media_type: MediaType,
    source_maps: &SourceMaps,
) -> Result<ModuleSource, ModuleLoaderError> {
    let (module_type, transpile) = match media_type {
        MediaType::JavaScript | MediaType::Mjs => (ModuleType::JavaScript, false),
        MediaType::Jsx | MediaType::TypeScript | MediaType::Mts | MediaType::Tsx => {
            (ModuleType::JavaScript, true)
        }
        MediaType::Json => (ModuleType::Json, false),
        _ => {
            return Err(JsErrorBox::generic(format!(
                "Unsupported module type: {found}"
            )));
        }
    };
    let code = if transpile {
        let transpiled = super::transpile_cache::transpile(found, code, media_type)?;
        if let Some(map) = &transpiled.source_map {
            source_maps
                .borrow_mut()
                .insert(found.to_string(), map.clone());
        }
        transpiled.code.clone()
    } else {
        code
    };
    Ok(ModuleSource::new_with_redirect(
        module_type,
        ModuleSourceCode::String(code.into()),
        requested,
        found,
        None,
    ))
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

impl ModuleLoader for FsModuleLoader {
    fn resolve(
        &self,
        specifier: &str,
        referrer: &str,
        _kind: ResolutionKind,
    ) -> Result<ModuleSpecifier, ModuleLoaderError> {
        if let Some(resolved) = self.resolve_in_package(specifier, referrer) {
            return resolved;
        }
        let resolved = match &*self.modules.borrow() {
            Some(modules) => modules.resolve(specifier, referrer)?,
            None => crate::modules::resolve(specifier, referrer, None)?,
        };
        // One arm per scheme `crate::modules::resolve` lets through that leads elsewhere.
        match resolved.scheme() {
            "node" => super::node::builtin_specifier(resolved.as_str())?
                .ok_or_else(|| JsErrorBox::type_error(format!("{resolved} is not a builtin"))),
            "npm" => self.resolve_npm(&resolved, referrer),
            _ => Ok(resolved),
        }
    }

    fn load(
        &self,
        module_specifier: &ModuleSpecifier,
        _maybe_referrer: Option<&ModuleLoadReferrer>,
        _options: ModuleLoadOptions,
    ) -> ModuleLoadResponse {
        // One arm per scheme `crate::modules::resolve` lets through.
        match module_specifier.scheme() {
            "https" | "http" => self.load_remote(module_specifier),
            _ => ModuleLoadResponse::Sync(self.load_sync(module_specifier)),
        }
    }

    fn get_source_map(&self, specifier: &str) -> Option<Cow<'_, [u8]>> {
        self.source_maps
            .borrow()
            .get(specifier)
            .map(|m| Cow::Owned(m.clone()))
    }
}
