//! The one redactor: every string the host keeps from an isolate (console lines, error messages,
//! job results) passes [`Redactor::redact`]. It knows every value the isolate was given since
//! boot (function secrets and the settings secrets of every invocation it served: a late error
//! can surface in a later call) and matches them all at once, in every form the console writes a
//! string in, merging overlaps into one `[REDACTED]`. Nothing else in host or ops redacts text.

use std::collections::BTreeSet;
use std::fmt;

use aho_corasick::AhoCorasick;
use zeroize::Zeroize;

/// What a secret value is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// Strings at least this long (in UTF-16 units) may be written by deno's formatter one line per
/// quoted piece (`'line 1\n' +\n  'line 2'`), so their pieces are matched too.
const MIN_SPLIT_LENGTH: usize = 16;

/// Quotes deno's formatter may put around a string (the first one the string does not hold).
const QUOTES: [char; 3] = ['"', '\'', '`'];

/// Matches every known secret value, in every written form, in a string. `Debug` shows how
/// many values it knows, never one of them.
#[derive(Default)]
pub struct Redactor {
    /// The values as given; wiped when dropped.
    values: BTreeSet<Value>,
    /// Every form of every value (see [`forms`]); `None` while there is none.
    matcher: Option<AhoCorasick>,
    /// Bytes of the longest form.
    longest: usize,
}

/// A secret value, wiped when dropped.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Value(String);

impl Drop for Value {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl std::borrow::Borrow<str> for Value {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redactor")
            .field("values", &self.values.len())
            .finish_non_exhaustive()
    }
}

impl Redactor {
    /// A redactor that knows `values` (empty ones are ignored).
    pub fn new<'a>(values: impl IntoIterator<Item = &'a str>) -> Self {
        let mut redactor = Redactor::default();
        redactor.learn(values);
        redactor
    }

    /// Adds `values` to what is redacted from now on. Known values cost nothing; the matcher is
    /// rebuilt only when one is new.
    pub fn learn<'a>(&mut self, values: impl IntoIterator<Item = &'a str>) {
        let mut changed = false;
        for value in values {
            if !value.is_empty() && !self.values.contains(value) {
                self.values.insert(Value(value.to_owned()));
                changed = true;
            }
        }
        if changed {
            self.rebuild();
        }
    }

    /// The number of values known.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether no value is known.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Bytes of the longest form of a value: a cut of a string need only look this far past
    /// itself to know whether it falls inside a value.
    pub fn longest(&self) -> usize {
        self.longest
    }

    /// `text` with every occurrence of every form of every value replaced by `[REDACTED]`;
    /// occurrences that overlap become one.
    pub fn redact(&self, text: &str) -> String {
        self.redact_head(text, text.len())
    }

    /// The start of `text`, at most `max_bytes` of it, redacted. The cut never falls inside an
    /// occurrence of a value: one that would moves back to where the occurrence starts, so no
    /// part of a value is left behind. Only the first `max_bytes` plus [`Redactor::longest`]
    /// bytes of `text` are looked at.
    pub fn redact_head(&self, text: &str, max_bytes: usize) -> String {
        self.head(text, max_bytes).0
    }

    /// `text` redacted and, when longer than `max_bytes`, cut (never inside a value) and
    /// followed by a note of how much was cut.
    pub fn redact_bounded(&self, text: &str, max_bytes: usize) -> String {
        let (mut head, cut) = self.head(text, max_bytes);
        if cut < text.len() {
            head.push_str(&format!("… [{} more bytes not kept]", text.len() - cut));
        }
        head
    }

    /// The redacted head of `text` (see [`Redactor::redact_head`]) and where `text` was cut.
    fn head(&self, text: &str, max_bytes: usize) -> (String, usize) {
        let mut cut = floor_char_boundary(text, max_bytes.min(text.len()));
        let spans = self.spans(&text[..ceil_char_boundary(text, cut + self.longest)]);
        if let Some(inside) = spans.iter().find(|(start, end)| *start < cut && cut < *end) {
            cut = inside.0;
        }
        let mut out = String::with_capacity(cut);
        let mut at = 0;
        for (start, end) in spans.into_iter().take_while(|(start, _)| *start < cut) {
            out.push_str(&text[at..start]);
            out.push_str(REDACTED);
            at = end;
        }
        if at < cut {
            out.push_str(&text[at..cut]);
        }
        (out, cut)
    }

    /// Where values occur in `text`, overlapping occurrences merged, in order.
    fn spans(&self, text: &str) -> Vec<(usize, usize)> {
        let Some(matcher) = &self.matcher else {
            return Vec::new();
        };
        let mut spans: Vec<(usize, usize)> = Vec::new();
        // Overlapping matches come in order of their end; merging needs them by start.
        let mut found: Vec<(usize, usize)> = matcher
            .find_overlapping_iter(text)
            .map(|m| (m.start(), m.end()))
            .collect();
        found.sort_unstable();
        for (start, end) in found {
            match spans.last_mut() {
                Some(last) if start < last.1 => last.1 = last.1.max(end),
                _ => spans.push((start, end)),
            }
        }
        spans
    }

    fn rebuild(&mut self) {
        let patterns: BTreeSet<String> = self.values.iter().flat_map(|v| forms(&v.0)).collect();
        self.longest = patterns.iter().map(String::len).max().unwrap_or(0);
        self.matcher = if patterns.is_empty() {
            None
        } else {
            Some(AhoCorasick::new(&patterns).expect("secret patterns fit an automaton"))
        };
    }
}

/// The forms in which `value` can appear in a string that leaves an isolate: as is; escaped the
/// way deno's console formatter writes a string inside an object, array, Map, `console.dir` or
/// `console.table` (for each quote it may choose) or a property key; escaped as JSON
/// (`JSON.stringify`); and, for a long value with line breaks, each quoted line as the formatter
/// writes a long string across lines.
fn forms(value: &str) -> Vec<String> {
    let mut forms = vec![value.to_owned(), escape_key(value), escape_json(value)];
    for quote in QUOTES {
        forms.push(escape_quoted(value, quote));
    }
    if value.contains('\n') && value.encode_utf16().count() > MIN_SPLIT_LENGTH {
        for line in value.split_inclusive('\n') {
            for quote in QUOTES {
                forms.push(format!("{quote}{}{quote}", escape_quoted(line, quote)));
            }
        }
    }
    forms.retain(|form| !form.is_empty());
    forms
}

/// `value` as deno's `quoteString` writes it between `quote`s (without the quotes).
fn escape_quoted(value: &str, quote: char) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if is_control(c) => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// `value` as deno's formatter writes a property key that needs quoting (its `meta` table).
fn escape_key(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if is_control(c) => out.push_str(&format!("\\x{:02X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// `value` as `JSON.stringify` writes it (without the quotes).
fn escape_json(value: &str) -> String {
    let quoted = serde_json::to_string(value).expect("a string serialises");
    quoted[1..quoted.len() - 1].to_owned()
}

fn is_control(c: char) -> bool {
    let code = c as u32;
    code <= 0x1f || (0x7f..=0x9f).contains(&code)
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn ceil_char_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_inside_another_is_redacted_whole_whatever_the_order() {
        let url = "postgres://app:Hunter2Pass@db.internal:5432/prod";
        let redactor = Redactor::new([":", url]);
        assert_eq!(
            redactor.redact(&format!("cannot connect to {url}")),
            "cannot connect to [REDACTED]"
        );
        let redactor = Redactor::new(["eu", "fake_eu123XYZ"]);
        assert_eq!(
            redactor.redact("key fake_eu123XYZ in eu"),
            "key [REDACTED] in [REDACTED]"
        );
    }

    #[test]
    fn overlapping_values_leave_nothing_behind() {
        let redactor = Redactor::new(["Kx7Qm2Zp", "m2Zp9Vw4"]);
        assert_eq!(redactor.redact("<Kx7Qm2Zp9Vw4>"), "<[REDACTED]>");
        assert_eq!(
            redactor.redact("Kx7Qm2Zp m2Zp9Vw4"),
            "[REDACTED] [REDACTED]"
        );
    }

    #[test]
    fn escaped_forms_are_redacted() {
        let value = "pa\"ss\\wo'rd\n`x";
        let redactor = Redactor::new([value]);
        for written in [
            r#"{ v: 'pa"ss\\wo\'rd\n`x' }"#,
            r#"{"v":"pa\"ss\\wo'rd\n`x"}"#,
            r#"[ "pa\"ss\\wo'rd\n`x" ]"#,
        ] {
            let out = redactor.redact(written);
            assert!(
                !out.contains("ss") && out.contains(REDACTED),
                "{written} -> {out}"
            );
        }
    }

    #[test]
    fn a_long_multi_line_value_is_redacted_when_written_one_line_at_a_time() {
        let pem = "-----BEGIN TEST BLOCK-----\nfirstLineOfAFakeBlock0123456789ab\nsecondFakeLine4567\n-----END TEST BLOCK-----";
        let redactor = Redactor::new([pem]);
        let written = "{\n  v: '-----BEGIN TEST BLOCK-----\\n' +\n    'firstLineOfAFakeBlock0123456789ab\\n' +\n    'secondFakeLine4567\\n' +\n    '-----END TEST BLOCK-----'\n}";
        let out = redactor.redact(written);
        assert!(
            !out.contains("firstLine") && !out.contains("secondFake"),
            "{out}"
        );
    }

    #[test]
    fn a_head_never_ends_inside_a_value() {
        let redactor = Redactor::new(["SECRET", "abab"]);
        assert_eq!(
            redactor.redact_head("xx SECRET yy", 100),
            "xx [REDACTED] yy"
        );
        assert_eq!(redactor.redact_head("xx SECRET yy", 5), "xx ");
        assert_eq!(redactor.redact_head("xx SECRET yy", 9), "xx [REDACTED]");
        assert_eq!(redactor.redact_head("ababab", 5), "");
        assert_eq!(redactor.redact_head("abab-ab", 5), "[REDACTED]-");
        assert_eq!(redactor.redact_head("\u{e9}\u{e9}\u{e9}", 3), "\u{e9}");
        assert_eq!(Redactor::new([""]).redact_head("SECRET", 3), "SEC");
        assert_eq!(
            redactor.redact_bounded("xx SECRET yy", 5),
            "xx … [9 more bytes not kept]"
        );
        assert_eq!(redactor.redact_bounded("xx SECRET", 50), "xx [REDACTED]");
    }

    #[test]
    fn learning_keeps_what_was_known_and_debug_shows_no_value() {
        let mut redactor = Redactor::new(["first-value"]);
        redactor.learn(["second-value", "first-value"]);
        assert_eq!(redactor.len(), 2);
        assert_eq!(
            redactor.redact("first-value second-value"),
            "[REDACTED] [REDACTED]"
        );
        assert!(!format!("{redactor:?}").contains("first-value"));
    }
}
