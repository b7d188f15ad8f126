//! Reading a `.env` file for `fluxbase secrets import`: dotenv syntax (quotes, `export `,
//! comments, multi-line quoted values, `$VAR` expansion outside single quotes) as the `dotenvy`
//! crate parses it, each entry checked as a secret name and value and tied to the line it starts
//! on. The whole file is checked before anything is written, and a bad line is named by its
//! number only: an error never quotes the line, which may hold a value. What to do with the
//! entries (one transaction, all or nothing) is the secrets service's business.

use std::collections::HashMap;

use crate::secrets::{SecretName, SecretValue};
use crate::{Error, Result};

/// Most entries one file may hold.
pub const MAX_DOTENV_ENTRIES: usize = 1000;

/// One `NAME=value` of a `.env` file.
#[derive(Debug)]
pub struct DotenvEntry {
    /// The line (from 1) the entry starts on.
    pub line: usize,
    /// Its name, checked.
    pub name: SecretName,
    /// Its value, checked (never printed).
    pub value: SecretValue,
}

/// Parses `bytes` as a `.env` file. An error names the line (from 1) and what is wrong with it,
/// never its text.
pub fn parse_dotenv(bytes: &[u8]) -> Result<Vec<DotenvEntry>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes)
        .map_err(|e| at(line_of(bytes, e.valid_up_to()), "is not UTF-8 text"))?;
    let lines: Vec<&str> = text.split('\n').collect();
    let mut entries: Vec<DotenvEntry> = Vec::new();
    let mut first_seen: HashMap<SecretName, usize> = HashMap::new();
    let mut cursor = 0;
    for item in dotenvy::from_read_iter(text.as_bytes()) {
        let (key, value) = match item {
            Ok(pair) => pair,
            Err(dotenvy::Error::LineParse(content, index)) => {
                let first = content.split('\n').next().unwrap_or_default();
                let line = find_line(&lines, cursor, |l| trim_cr(l) == trim_cr(first));
                return Err(at(
                    line,
                    &format!(
                        "cannot be parsed as NAME=VALUE (at character {}): quote a value that \
                         holds spaces, # or quotes, and close every quote",
                        index + 1
                    ),
                ));
            }
            Err(_) => return Err(at(cursor + 1, "cannot be read")),
        };
        let line = find_line(&lines, cursor, |l| starts_entry(l, &key));
        cursor = line;
        let name = SecretName::parse(&key).map_err(|e| at(line, &e.to_string()))?;
        let value =
            SecretValue::new(value).map_err(|e| at(line, &format!("the value of {name}: {e}")))?;
        if let Some(first) = first_seen.get(&name) {
            return Err(at(
                line,
                &format!("{name} is set a second time (first on line {first})"),
            ));
        }
        if entries.len() == MAX_DOTENV_ENTRIES {
            return Err(Error::invalid(format!(
                "the file holds more than {MAX_DOTENV_ENTRIES} entries; split it"
            )));
        }
        first_seen.insert(name.clone(), line);
        entries.push(DotenvEntry { line, name, value });
    }
    Ok(entries)
}

/// The error for line `line`.
fn at(line: usize, problem: &str) -> Error {
    Error::invalid(format!("line {line}: {problem}"))
}

/// The number (from 1) of the first line at or after index `from` that `matches`, else the line
/// after `from`.
fn find_line(lines: &[&str], from: usize, matches: impl Fn(&str) -> bool) -> usize {
    lines
        .iter()
        .enumerate()
        .skip(from)
        .find(|(_, l)| matches(l))
        .map_or(from + 1, |(i, _)| i + 1)
}

/// Whether `line` starts the entry `key`: `[export ]KEY[ ]=`.
fn starts_entry(line: &str, key: &str) -> bool {
    let line = line.trim_start();
    let line = line.strip_prefix("export ").map_or(line, str::trim_start);
    line.strip_prefix(key)
        .is_some_and(|rest| rest.trim_start().starts_with('='))
}

fn trim_cr(line: &str) -> &str {
    line.strip_suffix('\r').unwrap_or(line)
}

/// The line (from 1) that byte `offset` of `bytes` is on.
fn line_of(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset].iter().filter(|&&b| b == b'\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<(usize, String, String)> {
        parse_dotenv(text.as_bytes())
            .unwrap()
            .into_iter()
            .map(|e| (e.line, e.name.to_string(), e.value.expose().to_owned()))
            .collect()
    }

    #[test]
    fn reads_quotes_export_comments_and_multi_line_values() {
        let text = "# a comment\n\nexport A=plain\nB='single $HOME quoted'\nC=\"double\\nescape\"\n\
                    D=\"first\nsecond\"\n  e = spaced # trailing comment\n";
        assert_eq!(
            names(text),
            [
                (3, "A".into(), "plain".into()),
                (4, "B".into(), "single $HOME quoted".into()),
                (5, "C".into(), "double\nescape".into()),
                (6, "D".into(), "first\nsecond".into()),
                (8, "E".into(), "spaced".into()),
            ]
        );
    }

    #[test]
    fn a_bad_line_is_named_by_number_without_its_text() {
        let error = parse_dotenv(b"A=1\nB=2\nnot a pair sk_value\nD=4\n").unwrap_err();
        let message = error.to_string();
        assert!(message.starts_with("line 3: cannot be parsed"), "{message}");
        assert!(!message.contains("sk_value"));
        let error = parse_dotenv(b"A=1\nB=\"never closed\nC=3\n").unwrap_err();
        assert!(error.to_string().starts_with("line 2: "), "{error}");
        let error = parse_dotenv(b"A=1\n9BAD=x\n").unwrap_err();
        assert!(error.to_string().starts_with("line 2: "), "{error}");
        let error = parse_dotenv(b"A=1\nA=2\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "line 2: A is set a second time (first on line 1)"
        );
        let error = parse_dotenv(b"A=1\nEMPTY=\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "line 2: the value of EMPTY: secret value is empty"
        );
        let error = parse_dotenv(b"A=1\nB=\xff\n").unwrap_err();
        assert_eq!(error.to_string(), "line 2: is not UTF-8 text");
    }
}
