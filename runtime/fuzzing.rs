//! The checks behind the fuzz targets of `tests/fuzz/` and their corpus replay in
//! `tests/runtime/fuzz_corpus.rs`: each takes arbitrary bytes, runs them through the code that
//! parses untrusted input, and panics when an invariant breaks (a panic inside the parser counts
//! too). It calls the real parsers and touches no store, file or network.
//!
//! | target | code under test | invariants |
//! |---|---|---|
//! | `envelope` | [`Envelope::decode`], [`Keyring::open`] | decoding never panics; a decoded envelope encodes to the very same bytes; an envelope opens under the fuzz key only if it is the sealed seed, unaltered |
//! | `names` | [`SecretName`], [`Namespace`], [`UserId`], [`Scope`] parsing | an accepted name round-trips and holds only allowed characters; case never changes the verdict on a name; error messages stay one short, escaped line |
//! | `expiry` | [`parse_expiry`] | an accepted expiry is after `now`, a duration lands exactly at `now` plus it, and the instant prints as RFC 3339 that parses back |
//! | `admin_body` | the admin and job routes' JSON bodies ([`check_admin_body`]) | rejections are 400/422 and never echo the secret value; accepted bodies carry valid names and the value unchanged |
//! | `dotenv` | the `.env` reader of `secrets import` ([`dotenv`]) | see the function |

use std::sync::OnceLock;

use chrono::DateTime;

use crate::crypto::{Aad, Envelope, Keyring, MasterKey};
use crate::http::{AdminBody, CheckedBody, check_admin_body};
use crate::secrets::{
    MAX_NAME_LEN, MAX_VALUE_BYTES, Namespace, Scope, SecretName, SecretRef, parse_expiry,
};
use crate::settings::{SettingRef, UserId};
use crate::time::Timestamp;

/// The only plaintext ever sealed under the fuzz key (by [`seed_envelope`]).
pub const FUZZ_PLAINTEXT: &[u8] = b"fuzz-plaintext-value";

/// The instant the `expiry` and `admin_body` targets take as now (2027-01-15T08:00:00Z), in
/// milliseconds since the epoch.
pub const FUZZ_NOW_MILLIS: i64 = 1_800_000_000_000;

fn fuzz_now() -> Timestamp {
    Timestamp::from_millis(FUZZ_NOW_MILLIS)
}

fn fuzz_keyring() -> &'static Keyring {
    static KEYRING: OnceLock<Keyring> = OnceLock::new();
    KEYRING.get_or_init(|| Keyring::new(MasterKey::from_bytes(zeroize::Zeroizing::new([7; 32]))))
}

fn fuzz_aad() -> Aad {
    Aad::new("fluxbase fuzz v1").part(b"global").part(b"FUZZ")
}

/// A fresh envelope of [`FUZZ_PLAINTEXT`] under the fuzz key, encoded: the seed of the
/// `envelope` corpus.
pub fn seed_envelope() -> Vec<u8> {
    fuzz_keyring().seal(FUZZ_PLAINTEXT, &fuzz_aad()).encode()
}

/// `envelope`: the stored-ciphertext decoder and the AEAD open behind it.
pub fn envelope(data: &[u8]) {
    let Ok(envelope) = Envelope::decode(data) else {
        return;
    };
    assert_eq!(
        envelope.encode(),
        data,
        "a decoded envelope must encode to the bytes it came from"
    );
    assert_eq!(
        Envelope::decode(&envelope.encode()).ok(),
        Some(envelope.clone())
    );
    let keyring = fuzz_keyring();
    match keyring.open(&envelope, &fuzz_aad()) {
        Ok(plaintext) => {
            // Only FUZZ_PLAINTEXT was ever sealed under this key: anything else opening would be
            // a forgery.
            assert_eq!(plaintext.as_slice(), FUZZ_PLAINTEXT);
            let rewrapped = keyring
                .rewrap(&envelope, &fuzz_aad())
                .expect("an envelope that opens can be re-wrapped");
            assert_eq!(
                keyring.open(&rewrapped, &fuzz_aad()).unwrap().as_slice(),
                FUZZ_PLAINTEXT
            );
            // The same ciphertext bound to another secret's identity must not open.
            let other = Aad::new("fluxbase fuzz v1").part(b"global").part(b"FUZZ2");
            assert!(keyring.open(&envelope, &other).is_err());
        }
        Err(_) => {
            assert!(keyring.rewrap(&envelope, &fuzz_aad()).is_err());
        }
    }
}

/// An error message fit for a terminal and a log line: one line, no control characters, short.
fn assert_tidy_message(message: &str) {
    assert!(
        !message.chars().any(char::is_control),
        "control character in error message {message:?}"
    );
    assert!(message.len() < 600, "error message too long: {message:?}");
}

/// `names`: secret names, namespaces, user ids and scopes.
pub fn names(data: &[u8]) {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    match SecretName::parse(raw) {
        Ok(name) => {
            let s = name.as_str();
            assert_eq!(s, raw.to_ascii_uppercase());
            assert!(!s.is_empty() && s.len() <= MAX_NAME_LEN);
            assert!(
                s.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
            );
            assert!(!s.as_bytes()[0].is_ascii_digit());
            assert!(!s.starts_with("FLUXBASE_"));
            assert_eq!(SecretName::parse(s).ok().as_ref(), Some(&name));
            assert_eq!(
                SecretName::parse(&raw.to_ascii_lowercase()).ok().as_ref(),
                Some(&name)
            );
            // Its injected variable is a valid environment variable name.
            let variable = format!("FLUXBASE_SECRET_{s}");
            assert!(!variable.contains(['=', '\0']));
            // Settings keys follow the same rules.
            assert_eq!(SettingRef::parse(raw, None).unwrap().key, name);
        }
        Err(error) => {
            assert_tidy_message(&error.to_string());
            assert!(SecretName::parse(&raw.to_ascii_uppercase()).is_err());
            assert!(SecretName::parse(&raw.to_ascii_lowercase()).is_err());
            assert!(SettingRef::parse(raw, None).is_err());
        }
    }
    match Namespace::parse(raw) {
        Ok(namespace) => {
            assert_eq!(namespace.as_str(), raw);
            assert!(!raw.is_empty() && raw.len() <= 64);
            assert!(
                raw.bytes().all(|b| b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || b == b'-'
                    || b == b'_')
            );
            assert_eq!(Namespace::parse(raw).ok().as_ref(), Some(&namespace));
        }
        Err(error) => assert_tidy_message(&error.to_string()),
    }
    match UserId::parse(raw) {
        Ok(user) => {
            assert_eq!(user.as_str(), raw);
            assert!(!raw.is_empty() && raw.len() <= 255);
            assert!(
                raw.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.@:|+".contains(&b))
            );
        }
        Err(error) => assert_tidy_message(&error.to_string()),
    }
    match Scope::parse(raw) {
        Ok(scope) => assert_eq!(scope.as_str(), raw),
        Err(error) => assert_tidy_message(&error.to_string()),
    }
}

/// `expiry`: `--expires` and `expires_at` values.
pub fn expiry(data: &[u8]) {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let now = fuzz_now();
    let Ok(at) = parse_expiry(raw, now) else {
        return;
    };
    assert!(at > now, "{raw:?} gave an expiry not after now");
    let shown = at.to_rfc3339();
    let parsed = DateTime::parse_from_rfc3339(&shown)
        .unwrap_or_else(|e| panic!("{raw:?} expires at {shown:?}, which is not RFC 3339: {e}"));
    assert_eq!(parsed.timestamp(), at.millis().div_euclid(1000));
    if let Ok(duration) = humantime::parse_duration(raw.trim()) {
        let millis = i64::try_from(duration.as_millis()).unwrap();
        assert_eq!(at.millis(), now.millis() + millis, "{raw:?}");
    }
}

/// `admin_body`: the first byte picks the route, the rest is its body.
pub fn admin_body(data: &[u8]) {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let route = AdminBody::ALL[usize::from(pick) % AdminBody::ALL.len()];
    check_body(route, body, false);
    // The same body again with its value replaced by a sentinel: no answer may hold it.
    if let Ok(serde_json::Value::Object(mut object)) = serde_json::from_slice(body)
        && object.contains_key("value")
        && !body
            .windows(SENTINEL.len())
            .any(|w| w == SENTINEL.as_bytes())
    {
        object.insert("value".into(), SENTINEL.into());
        check_body(route, &serde_json::to_vec(&object).unwrap(), true);
    }
}

/// A value to look for in error messages.
const SENTINEL: &str = "sentinel-4c1f9a7e";

/// Checks one body; `sentinel_value`: its `value` is [`SENTINEL`], found nowhere else in it.
fn check_body(route: AdminBody, body: &[u8], sentinel_value: bool) {
    let secret = SecretRef::global(SecretName::parse("FUZZ").unwrap());
    let setting = SettingRef::parse("FUZZ", None).unwrap();
    let value = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("value").and_then(|v| v.as_str()).map(str::to_owned));
    match check_admin_body(route, body, &secret, &setting, fuzz_now()) {
        Err(error) => {
            let status = error.status().as_u16();
            assert!(
                status == 400 || status == 422,
                "{route:?}: status {status} for {:?}",
                String::from_utf8_lossy(body)
            );
            assert!(
                !(sentinel_value && error.message().contains(SENTINEL)),
                "{route:?}: the value is in the error {:?}",
                error.message()
            );
        }
        Ok(CheckedBody::Set(request)) => {
            assert_eq!(Some(request.value.expose()), value.as_deref());
            assert!(!request.value.expose().is_empty());
            assert!(request.value.expose().len() <= MAX_VALUE_BYTES);
            let name = request.secret.name.as_str();
            assert_eq!(SecretName::parse(name).unwrap().as_str(), name);
            if let Some(ns) = request.secret.location.namespace() {
                assert_eq!(Namespace::parse(ns.as_str()).ok().as_ref(), Some(ns));
            }
            if let Some(at) = request.expires_at {
                assert!(at > fuzz_now());
            }
        }
        Ok(CheckedBody::Metadata(update)) => {
            if let Some(Some(at)) = update.expires_at {
                assert!(at > fuzz_now());
            }
        }
        Ok(CheckedBody::Rollback { .. }) => {}
        Ok(CheckedBody::Setting(request)) => {
            assert_eq!(Some(request.value.expose()), value.as_deref());
            assert_eq!(request.setting, setting);
        }
        Ok(CheckedBody::Payload(payload)) => {
            let again: serde_json::Value =
                serde_json::from_slice(&serde_json::to_vec(&payload).unwrap()).unwrap();
            assert_eq!(again, payload);
        }
    }
}

/// `dotenv`: the `.env` reader of `secrets import` ([`crate::secrets::parse_dotenv`]). It never
/// panics; accepted entries carry valid, distinct names, non-empty values within the limit and
/// increasing line numbers within the file; a refusal is one short line naming a line of the
/// file and never quoting it (it may hold a value); and entries written back as
/// `export NAME='value'` (values a single-quoted dotenv string can hold) read back the same.
pub fn dotenv(data: &[u8]) {
    use crate::secrets::parse_dotenv;
    let lines = data.split(|&b| b == b'\n').count();
    match parse_dotenv(data) {
        Err(error) => {
            let message = error.to_string();
            assert!(!message.contains('\n'), "one line: {message:?}");
            if let Some(rest) = message.strip_prefix("line ") {
                let number: usize = rest
                    .split(':')
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("a line number");
                assert!((1..=lines).contains(&number), "{message:?}");
                // What follows the line number is ours: never a run of the line's own text
                // (names are shown escaped and cut to 40 characters by their parser).
                assert!(message.len() <= 300, "{message:?}");
            }
        }
        Ok(entries) => {
            let mut previous = 0;
            let mut names = std::collections::HashSet::new();
            for entry in &entries {
                assert!(
                    entry.line > previous && entry.line <= lines,
                    "{}",
                    entry.line
                );
                previous = entry.line;
                assert!(names.insert(entry.name.clone()), "{} twice", entry.name);
                let name = entry.name.as_str();
                assert_eq!(SecretName::parse(name).unwrap().as_str(), name);
                let value = entry.value.expose();
                assert!(!value.is_empty() && value.len() <= MAX_VALUE_BYTES);
            }
            let plain: Vec<_> = entries
                .iter()
                .filter(|e| !e.value.expose().contains(['\'', '\\', '\r']))
                .collect();
            let text: String = plain
                .iter()
                .map(|e| format!("export {}='{}'\n", e.name, e.value.expose()))
                .collect();
            let again = parse_dotenv(text.as_bytes()).expect("written-back entries parse");
            assert_eq!(again.len(), plain.len());
            for (a, b) in plain.iter().zip(&again) {
                assert_eq!(a.name, b.name);
                assert_eq!(a.value.expose(), b.value.expose());
            }
        }
    }
}
