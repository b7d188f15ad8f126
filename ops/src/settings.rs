//! Settings secrets of the running invocation: the invoking user's and the system's. Unlike
//! function secrets, given at boot, they belong to one invocation (a warm isolate serves many
//! users): the host puts an [`InvocationSettings`] in `OpState` right before the dispatch and
//! [`crate::end_invocation`] takes it out. It holds values only; it resolves nothing.

use std::fmt;

use crate::state::ResolvedSecrets;

/// Prefix of the `Deno.env` variables that carry the invoking user's settings secrets.
pub const USER_SETTING_ENV_PREFIX: &str = "FLUXBASE_USER_";
/// Prefix of the `Deno.env` variables that carry the system settings secrets.
pub const SYSTEM_SETTING_ENV_PREFIX: &str = "FLUXBASE_SETTING_";

/// The settings secrets of one invocation, by key (case-insensitive). `Debug` prints keys only.
#[derive(Clone, Default)]
pub struct InvocationSettings {
    /// The invoking user's settings secrets (empty without a user).
    pub user: ResolvedSecrets,
    /// The system settings secrets.
    pub system: ResolvedSecrets,
}

impl InvocationSettings {
    /// Looks `name` up, the user's settings first, then the system's. Returns the `Deno.env`
    /// variable that carries it (`FLUXBASE_USER_<KEY>` or `FLUXBASE_SETTING_<KEY>`), the name
    /// under which the access is recorded, together with the value.
    pub fn get(&self, name: &str) -> Option<(String, &str)> {
        lookup(&self.user, USER_SETTING_ENV_PREFIX, name)
            .or_else(|| lookup(&self.system, SYSTEM_SETTING_ENV_PREFIX, name))
    }

    /// Whether there are no settings secrets.
    pub fn is_empty(&self) -> bool {
        self.user.is_empty() && self.system.is_empty()
    }

    /// Every settings value of the invocation, the user's and the system's.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.user.values().chain(self.system.values())
    }
}

/// `name` in `set`, with the variable (`prefix` + upper-case key) that carries it.
fn lookup<'a>(set: &'a ResolvedSecrets, prefix: &str, name: &str) -> Option<(String, &'a str)> {
    set.get(name)
        .map(|(key, value)| (format!("{prefix}{}", key.to_ascii_uppercase()), value))
}

impl fmt::Debug for InvocationSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InvocationSettings")
            .field("user", &self.user.names().collect::<Vec<_>>())
            .field("system", &self.system.names().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> InvocationSettings {
        InvocationSettings {
            user: [("API_KEY", "user-value")].into_iter().collect(),
            system: [("API_KEY", "system-value"), ("REGION", "eu")]
                .into_iter()
                .collect(),
        }
    }

    #[test]
    fn the_user_setting_wins_over_the_system_one() {
        let settings = settings();
        assert_eq!(
            settings.get("api_key"),
            Some(("FLUXBASE_USER_API_KEY".into(), "user-value"))
        );
        assert_eq!(
            settings.get("Region"),
            Some(("FLUXBASE_SETTING_REGION".into(), "eu"))
        );
        assert_eq!(settings.get("missing"), None);
    }

    #[test]
    fn values_are_both_sets_and_debug_shows_keys_only() {
        let settings = settings();
        let mut values: Vec<&str> = settings.values().collect();
        values.sort_unstable();
        assert_eq!(values, ["eu", "system-value", "user-value"]);
        let shown = format!("{settings:?}");
        assert!(shown.contains("API_KEY") && !shown.contains("user-value"));
    }
}
