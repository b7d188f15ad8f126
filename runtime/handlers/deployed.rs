//! What is deployed: every handler file of a directory with the namespace it runs in and its
//! `// @fluxbase:KEY VALUE` annotation lines, for the admin API's list (and the dashboard). It
//! reads handler files; it runs nothing and knows nothing of HTTP.

use std::path::Path;

use serde::Serialize;

use super::{HandlerKind, HandlerSettings, discover};
use crate::Result;
use crate::secrets::Namespace;

/// One `// @fluxbase:KEY VALUE` line of a handler file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Annotation {
    /// What follows `@fluxbase:`, e.g. `namespace`.
    pub key: String,
    /// The rest of the line, trimmed (may be empty).
    pub value: String,
}

/// A deployed function or job.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Deployed {
    /// `function` or `job`.
    pub kind: &'static str,
    /// Its name, as used to invoke or enqueue it.
    pub name: String,
    /// The namespace it runs in: its `@fluxbase:namespace` line, else the host's default.
    pub namespace: String,
    /// Its entry file, relative to the functions or jobs directory.
    pub file: String,
    /// Every `@fluxbase:` annotation line of the entry file, in order.
    pub annotations: Vec<Annotation>,
    /// Why those lines are refused, if they are: the handler cannot load until they are fixed.
    pub error: Option<String>,
}

/// Every handler of `kind` in `dir`, sorted by name; `fallback` is the namespace of those whose
/// file names none. A file whose annotations are refused is listed with why.
pub fn deployed(dir: &Path, kind: HandlerKind, fallback: &Namespace) -> Result<Vec<Deployed>> {
    discover(dir, kind)?
        .into_iter()
        .map(|handler| {
            let source = std::fs::read_to_string(&handler.path).map_err(|e| {
                crate::Error::io(format!("cannot read {}", handler.path.display()), e)
            })?;
            let (namespace, error) = match HandlerSettings::parse(&source, kind, &handler.path) {
                Ok(settings) => (settings.namespace.unwrap_or_else(|| fallback.clone()), None),
                Err(error) => (fallback.clone(), Some(error.to_string())),
            };
            let file = handler
                .path
                .strip_prefix(dir)
                .unwrap_or(&handler.path)
                .display()
                .to_string();
            Ok(Deployed {
                kind: kind.as_str(),
                name: handler.name,
                namespace: namespace.as_str().to_owned(),
                file,
                annotations: annotations(&source),
                error,
            })
        })
        .collect()
}

/// The `// @fluxbase:KEY VALUE` lines of `source`, as written.
fn annotations(source: &str) -> Vec<Annotation> {
    source
        .lines()
        .filter_map(super::annotations::annotation)
        .filter(|(key, _)| !key.is_empty())
        .map(|(key, value)| Annotation {
            key: key.to_owned(),
            value: value.to_owned(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_annotation_line() {
        let found = annotations(
            "// @fluxbase:namespace billing\nlet x = 1; // @fluxbase:not-a-line\n  // @fluxbase:owner team a \n",
        );
        assert_eq!(
            found,
            [
                Annotation {
                    key: "namespace".into(),
                    value: "billing".into()
                },
                Annotation {
                    key: "owner".into(),
                    value: "team a".into()
                },
            ]
        );
    }
}
