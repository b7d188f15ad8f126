//! npm modules inside an isolate: `npm:` specifiers and the imports of installed packages
//! resolved as Deno does (deno_resolver's node_modules resolver, node_resolver's package.json
//! `exports` with Deno's conditions), CommonJS files loaded as ES modules through Node's own
//! `require` (deno_node's `node:module`), and the services deno_node's `require` reads from the
//! op state. Owns resolution and loading of files in the npm store; must not install anything
//! (see `crate::npm`) nor read a file outside the store.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::path::Path;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;

use deno_core::FastString;
use deno_core::ModuleSpecifier;
use deno_core::OpState;
use deno_error::JsErrorBox;
use deno_node::NodeRequireLoader;
use deno_permissions::PermissionsContainer;
use deno_resolver::npm::ByonmInNpmPackageChecker;
use deno_resolver::npm::ByonmNpmResolver;
use deno_resolver::npm::ByonmNpmResolverCreateOptions;
use deno_semver::npm::NpmPackageReqReference;
use node_resolver::DenoIsBuiltInNodeModuleChecker;
use node_resolver::NodeResolution;
use node_resolver::NodeResolutionKind;
use node_resolver::NodeResolverOptions;
use node_resolver::PackageJsonResolver;
use node_resolver::ResolutionMode;
use node_resolver::cache::NodeResolutionSys;
use sys_traits::impls::RealSys;

use crate::npm::NpmPackages;

type NodeResolver =
    deno_node::NodeResolver<ByonmInNpmPackageChecker, ByonmNpmResolver<RealSys>, RealSys>;

/// The npm side of one isolate's loader.
pub struct NpmModules {
    packages: Arc<NpmPackages>,
    /// The store: the only place npm modules are read from.
    store: PathBuf,
    /// The store as the file system names it, once it exists (asked until then).
    canonical_store: OnceCell<PathBuf>,
    resolver: Rc<NodeResolver>,
    pkg_json: Rc<PackageJsonResolver<RealSys>>,
}

impl NpmModules {
    /// npm modules from `packages`.
    pub fn new(packages: Arc<NpmPackages>) -> std::io::Result<Self> {
        // Made when the first package is installed.
        let store = packages.store().to_owned();
        let pkg_json = Rc::new(PackageJsonResolver::new(RealSys, None));
        let byonm = ByonmNpmResolver::new(ByonmNpmResolverCreateOptions {
            root_node_modules_dir: None,
            search_stop_dir: Some(store.clone()),
            sys: NodeResolutionSys::new(RealSys, None),
            pkg_json_resolver: pkg_json.clone(),
        });
        let resolver = Rc::new(NodeResolver::new(
            ByonmInNpmPackageChecker,
            DenoIsBuiltInNodeModuleChecker,
            byonm,
            pkg_json.clone(),
            NodeResolutionSys::new(RealSys, None),
            NodeResolverOptions::default(),
        ));
        Ok(Self {
            packages,
            store,
            canonical_store: OnceCell::new(),
            resolver,
            pkg_json,
        })
    }

    /// Whether `path` is a file of an installed package: under the store as named, or as the
    /// file system names it once it exists.
    pub fn holds(&self, path: &Path) -> bool {
        if path.starts_with(&self.store) {
            return true;
        }
        let canonical = match self.canonical_store.get() {
            Some(canonical) => canonical,
            None => match std::fs::canonicalize(&self.store) {
                Ok(canonical) => self.canonical_store.get_or_init(|| canonical),
                Err(_) => return false,
            },
        };
        path.starts_with(canonical)
    }

    /// Resolves `npm:name@range/sub`, installing the package on first use.
    pub fn resolve_npm_specifier(
        &self,
        specifier: &str,
        referrer: &ModuleSpecifier,
    ) -> Result<ModuleSpecifier, JsErrorBox> {
        let reference = NpmPackageReqReference::from_str(specifier).map_err(|e| {
            JsErrorBox::type_error(format!("Invalid npm specifier \"{specifier}\": {e}"))
        })?;
        let folder = self
            .packages
            .package_folder(reference.req())
            .map_err(|e| JsErrorBox::generic(e.to_string()))?;
        self.resolver
            .resolve_package_subpath_from_deno_module(
                &folder,
                reference.sub_path(),
                Some(referrer),
                ResolutionMode::Import,
                NodeResolutionKind::Execution,
            )
            .map_err(|e| JsErrorBox::generic(format!("{specifier}: {e}")))?
            .into_url()
            .map_err(|e| JsErrorBox::generic(format!("{specifier}: {e}")))
    }

    /// Resolves an import made by a module of an installed package, as Node does.
    pub fn resolve_from_package(
        &self,
        specifier: &str,
        referrer: &ModuleSpecifier,
    ) -> Result<ModuleSpecifier, JsErrorBox> {
        let resolved = self
            .resolver
            .resolve(
                specifier,
                referrer,
                ResolutionMode::Import,
                NodeResolutionKind::Execution,
            )
            .map_err(|e| JsErrorBox::generic(format!("{e}")))?;
        match resolved {
            NodeResolution::BuiltIn(name) => {
                let name = name.strip_prefix("node:").unwrap_or(&name).to_owned();
                ModuleSpecifier::parse(&format!("node:{name}")).map_err(JsErrorBox::from_err)
            }
            NodeResolution::Module(module) => module
                .into_url()
                .map_err(|e| JsErrorBox::generic(format!("{specifier}: {e}"))),
        }
    }

    /// The source of the package file at `path` as an ES module: an ES module as it is, a
    /// CommonJS one as a module that `require`s it and exports what it exports.
    pub fn module_source(
        &self,
        specifier: &ModuleSpecifier,
        path: &Path,
        code: String,
    ) -> Result<String, JsErrorBox> {
        if self.is_esm(specifier, path, &code) {
            return Ok(code);
        }
        let names = cjs_export_names(specifier, code)?;
        let path_literal = serde_json::to_string(&path.to_string_lossy())
            .map_err(|e| JsErrorBox::generic(e.to_string()))?;
        let mut wrapper = format!(
            "import {{ createRequire }} from \"node:module\";\n\
             const require = createRequire(import.meta.url);\n\
             const mod = require({path_literal});\n\
             export default mod;\n"
        );
        for name in names {
            if name == "default" || !is_identifier(&name) {
                continue;
            }
            wrapper.push_str(&format!("export const {name} = mod[\"{name}\"];\n"));
        }
        Ok(wrapper)
    }

    /// ES module or CommonJS, as Node decides: the extension, else the package's `type`, else
    /// whether the file has ES module syntax.
    fn is_esm(&self, specifier: &ModuleSpecifier, path: &Path, code: &str) -> bool {
        match path.extension().and_then(|ext| ext.to_str()) {
            Some("mjs") => return true,
            Some("cjs") => return false,
            _ => {}
        }
        if let Ok(Some(package)) = self.pkg_json.get_closest_package_json(path) {
            match package.typ.as_str() {
                "module" => return true,
                "commonjs" => return false,
                _ => {}
            }
        }
        deno_ast::parse_program(deno_ast::ParseParams {
            specifier: specifier.clone(),
            text: code.into(),
            media_type: deno_ast::MediaType::JavaScript,
            capture_tokens: false,
            scope_analysis: false,
            maybe_syntax: None,
        })
        .map(|program| !program.compute_is_script())
        .unwrap_or(false)
    }

    /// Gives deno_node's `require` what it reads from the op state: the resolver, the
    /// package.json reader, and a loader that reads files of the store only.
    pub fn install_require(&self, state: &mut OpState) {
        let loader: deno_node::NodeRequireLoaderRc = Rc::new(StoreRequireLoader {
            store: self.store.clone(),
            pkg_json: self.pkg_json.clone(),
        });
        state.put(RealSys);
        state.put(loader);
        state.put(self.resolver.clone());
        state.put(self.pkg_json.clone());
    }
}

/// What a CommonJS file exports by name (cjs-module-lexer's analysis, deno_ast's version).
fn cjs_export_names(specifier: &ModuleSpecifier, code: String) -> Result<Vec<String>, JsErrorBox> {
    let parsed = deno_ast::parse_program(deno_ast::ParseParams {
        specifier: specifier.clone(),
        text: code.into(),
        media_type: deno_ast::MediaType::Cjs,
        capture_tokens: false,
        scope_analysis: false,
        maybe_syntax: None,
    })
    .map_err(|e| JsErrorBox::new("SyntaxError", format!("{e}")))?;
    let mut names: Vec<String> = parsed.analyze_cjs().exports;
    names.sort();
    names.dedup();
    Ok(names)
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// deno_node's `require` file access: files of the npm store, nothing else.
struct StoreRequireLoader {
    store: PathBuf,
    pkg_json: Rc<PackageJsonResolver<RealSys>>,
}

impl StoreRequireLoader {
    fn inside(&self, path: &Path) -> Result<PathBuf, JsErrorBox> {
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
        let store = std::fs::canonicalize(&self.store).unwrap_or_else(|_| self.store.clone());
        if canonical.starts_with(&store) {
            Ok(canonical)
        } else {
            Err(JsErrorBox::new(
                "NotCapable",
                format!(
                    "require() of \"{}\" is refused: a function's require() reads installed npm packages only",
                    path.display()
                ),
            ))
        }
    }
}

impl NodeRequireLoader for StoreRequireLoader {
    fn ensure_read_permission<'a>(
        &self,
        _permissions: &mut PermissionsContainer,
        path: Cow<'a, Path>,
    ) -> Result<Cow<'a, Path>, JsErrorBox> {
        self.inside(&path)?;
        Ok(path)
    }

    fn load_text_file_lossy(&self, path: &Path) -> Result<FastString, JsErrorBox> {
        let path = self.inside(path)?;
        let bytes = std::fs::read(&path).map_err(JsErrorBox::from_err)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned().into())
    }

    fn is_maybe_cjs(
        &self,
        specifier: &deno_core::url::Url,
    ) -> Result<bool, node_resolver::errors::PackageJsonLoadError> {
        self.is_maybe_cjs_from_require(specifier)
    }

    fn is_maybe_cjs_from_require(
        &self,
        specifier: &deno_core::url::Url,
    ) -> Result<bool, node_resolver::errors::PackageJsonLoadError> {
        let Ok(path) = specifier.to_file_path() else {
            return Ok(false);
        };
        match path.extension().and_then(|ext| ext.to_str()) {
            Some("cjs") => return Ok(true),
            Some("mjs") => return Ok(false),
            _ => {}
        }
        Ok(self
            .pkg_json
            .get_closest_package_json(&path)?
            .is_none_or(|package| package.typ != "module"))
    }
}
