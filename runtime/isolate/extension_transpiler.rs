//! Turns the TypeScript among the extension scripts (Node's polyfills are written in it) into
//! JavaScript, once per process: every isolate registers the same scripts when it boots, and
//! each gets the stored result. Owns that cache; must not touch user code (the module loader
//! transpiles that, with source maps).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::OnceLock;

use deno_ast::MediaType;
use deno_core::ModuleCodeString;
use deno_core::ModuleName;
use deno_core::ModuleSpecifier;
use deno_core::SourceMapData;
use deno_error::JsErrorBox;

/// Transpiled extension scripts by specifier, kept for the life of the process.
fn transpiled() -> &'static Mutex<HashMap<String, &'static str>> {
    static TRANSPILED: OnceLock<Mutex<HashMap<String, &'static str>>> = OnceLock::new();
    TRANSPILED.get_or_init(Default::default)
}

/// The placeholder `node:process`'s polyfill carries for the Node version it reports.
const NODE_VERSION_TOKEN: &str = "__NODE_VERSION__";

/// deno_core's extension transpiler: a `.ts`/`.mts` script, and every `node:` builtin (Deno
/// names some TypeScript files so), becomes JavaScript (types stripped, no source map: their
/// stack frames name the `ext:` script); anything else is returned as is.
pub fn transpile_extension(
    specifier: ModuleName,
    code: ModuleCodeString,
) -> Result<(ModuleCodeString, Option<SourceMapData>), JsErrorBox> {
    let name = specifier.as_str();
    // Every boot registers every script: the common case (JavaScript) is decided from the name
    // alone, before anything is parsed or locked.
    let typescript = name.starts_with("node:") || name.ends_with(".ts") || name.ends_with(".mts");
    if !typescript {
        return Ok((code, None));
    }
    if let Some(done) = transpiled().lock().expect("transpile cache").get(name) {
        return Ok((ModuleCodeString::from_static(done), None));
    }
    let url = ModuleSpecifier::parse(name)
        .map_err(|e| JsErrorBox::generic(format!("extension script {name}: {e}")))?;
    let media_type = if name.ends_with(".mts") {
        MediaType::Mts
    } else {
        MediaType::TypeScript
    };
    let mut text = code.as_str().to_owned();
    if text.contains(NODE_VERSION_TOKEN) {
        text = text.replace(NODE_VERSION_TOKEN, deno_node::NODE_VERSION);
    }
    let parsed = deno_ast::parse_module(deno_ast::ParseParams {
        specifier: url,
        text: text.into(),
        media_type,
        capture_tokens: false,
        scope_analysis: false,
        maybe_syntax: None,
    })
    .map_err(|e| JsErrorBox::generic(format!("extension script {name}: {e}")))?;
    let emitted = parsed
        .transpile(
            &deno_ast::TranspileOptions {
                imports_not_used_as_values: deno_ast::ImportsNotUsedAsValues::Remove,
                ..Default::default()
            },
            &deno_ast::TranspileModuleOptions { module_kind: None },
            &deno_ast::EmitOptions {
                source_map: deno_ast::SourceMapOption::None,
                ..Default::default()
            },
        )
        .map_err(|e| JsErrorBox::generic(format!("extension script {name}: {e}")))?
        .into_source();
    let done: &'static str = Box::leak(emitted.text.into_boxed_str());
    transpiled()
        .lock()
        .expect("transpile cache")
        .insert(name.to_owned(), done);
    Ok((ModuleCodeString::from_static(done), None))
}
