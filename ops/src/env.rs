//! `Deno.env`: the isolate's own environment, starting with what the host injected
//! (`FLUXBASE_SECRET_*`, the invocation's `FLUXBASE_USER_*` and `FLUXBASE_SETTING_*`, and the
//! `FLUXBASE_*` identity variables). `set`/`delete` change only this isolate: it never reads or
//! writes the host process's environment.

use std::collections::BTreeMap;

use deno_core::{OpState, op2};
use deno_error::JsErrorBox;

use crate::settings::{SYSTEM_SETTING_ENV_PREFIX, USER_SETTING_ENV_PREFIX};
use crate::state::{AccessLog, IsolateEnv, SECRET_ENV_PREFIX};
use zeroize::Zeroizing;

/// The name under which reading variable `key` counts as a secret access, if it carries one:
/// a function secret by its name, a settings secret by the whole variable name.
fn accessed_secret(key: &str) -> Option<&str> {
    if let Some(name) = key.strip_prefix(SECRET_ENV_PREFIX) {
        return Some(name);
    }
    (key.starts_with(USER_SETTING_ENV_PREFIX) || key.starts_with(SYSTEM_SETTING_ENV_PREFIX))
        .then_some(key)
}

fn validate_key(key: &str) -> Result<(), JsErrorBox> {
    if key.is_empty() {
        return Err(JsErrorBox::type_error("Key is an empty string."));
    }
    if key.contains(['=', '\0']) {
        return Err(JsErrorBox::type_error(format!(
            "Key contains invalid characters: {key:?}"
        )));
    }
    Ok(())
}

/// `Deno.env.get(key)`; reading a `FLUXBASE_SECRET_*`, `FLUXBASE_USER_*` or `FLUXBASE_SETTING_*`
/// variable counts as a secret access.
#[op2]
#[string]
pub(crate) fn op_env_get(
    state: &mut OpState,
    #[string] key: &str,
) -> Result<Option<String>, JsErrorBox> {
    validate_key(key)?;
    let value = state.borrow::<IsolateEnv>().0.get(key).cloned();
    if let (Some(name), Some(_)) = (accessed_secret(key), &value) {
        state.borrow_mut::<AccessLog>().record(name, true);
    }
    Ok(value)
}

/// `Deno.env.set(key, value)`, in this isolate only.
#[op2(fast)]
pub(crate) fn op_env_set(
    state: &mut OpState,
    #[string] key: &str,
    #[string] value: &str,
) -> Result<(), JsErrorBox> {
    validate_key(key)?;
    if value.contains('\0') {
        return Err(JsErrorBox::type_error("Value contains invalid characters."));
    }
    let replaced = state
        .borrow_mut::<IsolateEnv>()
        .0
        .insert(key.to_owned(), value.to_owned());
    // A replaced or removed value may be a secret: wiped like the rest of the env.
    drop(replaced.map(Zeroizing::new));
    Ok(())
}

/// `Deno.env.delete(key)`, in this isolate only.
#[op2(fast)]
pub(crate) fn op_env_delete(state: &mut OpState, #[string] key: &str) -> Result<(), JsErrorBox> {
    validate_key(key)?;
    let removed = state.borrow_mut::<IsolateEnv>().0.remove(key);
    drop(removed.map(Zeroizing::new));
    Ok(())
}

/// `Deno.env.toObject()`; counts as an access to every secret it contains.
#[op2]
#[serde]
pub(crate) fn op_env_to_object(state: &mut OpState) -> BTreeMap<String, String> {
    let env = state.borrow::<IsolateEnv>().0.clone();
    let log = state.borrow_mut::<AccessLog>();
    for name in env.keys().filter_map(|k| accessed_secret(k)) {
        log.record(name, true);
    }
    env
}
