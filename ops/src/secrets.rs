//! `secrets.get(name)`: a case-insensitive lookup in the secrets resolved for this isolate, then
//! in the settings secrets of the running invocation (the user's, then the system's), noting
//! each name read. It reads only `OpState`: never a store, a file or the host's environment.

use deno_core::{OpState, op2};

use crate::settings::InvocationSettings;
use crate::state::{AccessLog, ResolvedSecrets};

/// Returns the value of the secret `name` (any case), or `null`; records the access by name (a
/// settings secret by its `Deno.env` variable, `FLUXBASE_USER_<KEY>` or
/// `FLUXBASE_SETTING_<KEY>`).
#[op2]
#[string]
pub(crate) fn op_secret_get(state: &mut OpState, #[string] name: &str) -> Option<String> {
    let hit = state
        .try_borrow::<ResolvedSecrets>()
        .and_then(|secrets| secrets.get(name))
        .map(|(canonical, value)| (canonical.to_owned(), value.to_owned()))
        .or_else(|| {
            state
                .try_borrow::<InvocationSettings>()
                .and_then(|settings| settings.get(name))
                .map(|(variable, value)| (variable, value.to_owned()))
        });
    let log = state.borrow_mut::<AccessLog>();
    match hit {
        Some((canonical, value)) => {
            log.record(&canonical, true);
            Some(value)
        }
        None => {
            log.record(name, false);
            None
        }
    }
}
