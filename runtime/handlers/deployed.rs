//! What is deployed: every handler file of a directory with the namespace it runs in and its
//! `// @fluxbase:KEY VALUE` annotation lines, for the admin API's list (and the dashboard). It
//! reads handler files; it runs nothing and knows nothing of HTTP.

use std::path::Path;

use serde::Serialize;

use super::{HandlerKind, discover};
use crate::Result;
use crate::secrets::Namespace;

/// The prefix of an annotation, after `//`.
const ANNOTATION_PREFIX: &str = "@fluxbase:";

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
}

/// Every handler of `kind` in `dir`, sorted by name; `fallback` is the namespace of those whose
/// file names none. A file whose namespace line is invalid is an error, as it is at invocation.
pub fn deployed(dir: &Path, kind: HandlerKind, fallback: &Namespace) -> Result<Vec<Deployed>> {
    discover(dir, kind)?
        .into_iter()
        .map(|handler| {
            let source = std::fs::read_to_string(&handler.path).map_err(|e| {
                crate::Error::io(format!("cannot read {}", handler.path.display()), e)
            })?;
            let namespace = handler
                .declared_namespace()?
                .unwrap_or_else(|| fallback.clone());
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
            })
        })
        .collect()
}

/// The `// @fluxbase:KEY VALUE` lines of `source`.
fn annotations(source: &str) -> Vec<Annotation> {
    source
        .lines()
        .filter_map(|line| {
            let comment = line.trim().strip_prefix("//")?.trim();
            let rest = comment.strip_prefix(ANNOTATION_PREFIX)?;
            let (key, value) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            (!key.is_empty()).then(|| Annotation {
                key: key.to_owned(),
                value: value.trim().to_owned(),
            })
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
