//! Where an import leads: the specifier through the directory's import map when it has one
//! (else resolved against its referrer as a URL), then the one decision of which schemes may be
//! imported, and from where. One arm per scheme: a scheme that becomes supported is one more
//! arm here (and one in the isolate's loader, which loads it). It reads nothing and fetches
//! nothing.

use deno_core::ModuleSpecifier;
use deno_core::resolve_import;
use deno_error::JsErrorBox;
use import_map::ImportMap;

/// Resolves `specifier` imported by `referrer` (a module's URL; `.` for the main module).
pub fn resolve(
    specifier: &str,
    referrer: &str,
    import_map: Option<&ImportMap>,
) -> Result<ModuleSpecifier, JsErrorBox> {
    let referrer_url = ModuleSpecifier::parse(referrer).ok();
    let resolved = match (import_map, &referrer_url) {
        (Some(map), Some(referrer_url)) => map
            .resolve(specifier, referrer_url)
            .map_err(|e| JsErrorBox::type_error(e.to_string()))?,
        _ => resolve_import(specifier, referrer).map_err(JsErrorBox::from_err)?,
    };
    let from = referrer_url
        .as_ref()
        .map(|url| url.scheme())
        .unwrap_or("file");
    match resolved.scheme() {
        "file" if is_remote(from) => Err(JsErrorBox::type_error(format!(
            "Import of \"{resolved}\" from \"{referrer}\" is not allowed: a remote module cannot \
             import a local file (as in Deno)"
        ))),
        "file" => Ok(resolved),
        "http" if from == "https" => Err(JsErrorBox::type_error(format!(
            "Import of \"{resolved}\" from \"{referrer}\" is not allowed: a module fetched over \
             https cannot import one over http (as in Deno)"
        ))),
        "http" | "https" => Ok(resolved),
        // Node's builtins and npm packages: the isolate's loader takes them further.
        "node" | "npm" => Ok(resolved),
        "jsr" => Err(JsErrorBox::type_error(format!(
            "Import of \"{resolved}\" is not allowed: jsr: specifiers are not supported (the \
             JSR registry is not reachable from here; import its https://jsr.io/ URL instead)"
        ))),
        _ => Err(JsErrorBox::type_error(format!(
            "Import of \"{resolved}\" is not allowed: only relative, file, https: and http: \
             imports are supported"
        ))),
    }
}

fn is_remote(scheme: &str) -> bool {
    matches!(scheme, "http" | "https")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAIN: &str = "file:///srv/functions/hello.ts";

    fn map(json: &str) -> ImportMap {
        let base = ModuleSpecifier::parse("file:///srv/functions/deno.json").unwrap();
        import_map::parse_from_json(base, json).unwrap().import_map
    }

    #[test]
    fn relative_file_and_remote_imports_resolve() {
        assert_eq!(
            resolve("./lib/a.ts", MAIN, None).unwrap().as_str(),
            "file:///srv/functions/lib/a.ts"
        );
        assert_eq!(
            resolve("https://mods.example/a.ts", MAIN, None)
                .unwrap()
                .as_str(),
            "https://mods.example/a.ts"
        );
        assert_eq!(
            resolve("./b.ts", "https://mods.example/x/a.ts", None)
                .unwrap()
                .as_str(),
            "https://mods.example/x/b.ts"
        );
    }

    #[test]
    fn a_remote_module_cannot_import_a_file_nor_downgrade_to_http() {
        let error = resolve("file:///etc/passwd", "https://mods.example/a.ts", None).unwrap_err();
        assert!(
            error.to_string().contains("cannot import a local file"),
            "{error}"
        );
        let error = resolve(
            "http://mods.example/b.ts",
            "https://mods.example/a.ts",
            None,
        )
        .unwrap_err();
        assert!(error.to_string().contains("over http"), "{error}");
        assert!(resolve("http://mods.example/b.ts", "http://mods.example/a.ts", None).is_ok());
    }

    #[test]
    fn npm_and_node_go_on_to_the_loader_jsr_and_others_are_refused() {
        for specifier in ["npm:zod@3/v4", "node:fs"] {
            assert_eq!(resolve(specifier, MAIN, None).unwrap().as_str(), specifier);
        }
        // An import map may name a package: `"zod": "npm:zod@3"`.
        let map = map(r#"{"imports": {"zod": "npm:zod@3.23.8"}}"#);
        assert_eq!(
            resolve("zod", MAIN, Some(&map)).unwrap().as_str(),
            "npm:zod@3.23.8"
        );
        for specifier in ["jsr:@std/assert", "data:text/javascript,1"] {
            let error = resolve(specifier, MAIN, None).unwrap_err();
            assert!(error.to_string().contains("is not allowed"), "{error}");
        }
    }

    #[test]
    fn the_import_map_maps_bare_and_prefix_specifiers() {
        let map = map(
            r#"{"imports": {"greet": "https://mods.example/greet.ts", "@shared/": "./_shared/"}}"#,
        );
        assert_eq!(
            resolve("greet", MAIN, Some(&map)).unwrap().as_str(),
            "https://mods.example/greet.ts"
        );
        assert_eq!(
            resolve("@shared/x.ts", MAIN, Some(&map)).unwrap().as_str(),
            "file:///srv/functions/_shared/x.ts"
        );
        let error = resolve("unmapped", MAIN, Some(&map)).unwrap_err();
        assert!(error.to_string().contains("\"unmapped\""), "{error}");
    }
}
