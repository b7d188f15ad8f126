//! What one invocation is given of the settings secrets: the values behind `secrets.get` (after
//! the function secrets) and the `Deno.env` variables `FLUXBASE_USER_<KEY>` (the invoking
//! user's) and `FLUXBASE_SETTING_<KEY>` (the system's). Handed over per invocation, never at
//! boot (a warm isolate serves many users). It reads no store and decrypts nothing.

use fluxbase_ops::settings::{
    InvocationSettings, SYSTEM_SETTING_ENV_PREFIX, USER_SETTING_ENV_PREFIX,
};
use fluxbase_ops::state::{IsolateEnv, ResolvedSecrets};
use std::collections::BTreeMap;

use crate::secrets::{SecretName, SecretValue};
use crate::settings::ResolvedSettings;

/// The settings secrets of one invocation, ready for the isolate. `Debug` shows keys only.
#[derive(Debug, Default)]
pub struct SettingsInjection {
    settings: InvocationSettings,
}

impl SettingsInjection {
    /// Takes the resolved settings secrets of one invocation.
    pub fn new(resolved: &ResolvedSettings) -> Self {
        SettingsInjection {
            settings: InvocationSettings {
                user: isolate_set(&resolved.user),
                system: isolate_set(&resolved.system),
            },
        }
    }

    /// The settings as the isolate's ops hold them during the invocation.
    pub fn isolate_settings(&self) -> InvocationSettings {
        self.settings.clone()
    }

    /// An invocation's `Deno.env` with `FLUXBASE_USER_<KEY>` and `FLUXBASE_SETTING_<KEY>` added.
    pub fn with_env(&self, mut env: IsolateEnv) -> IsolateEnv {
        for (prefix, set) in [
            (USER_SETTING_ENV_PREFIX, &self.settings.user),
            (SYSTEM_SETTING_ENV_PREFIX, &self.settings.system),
        ] {
            for name in set.names() {
                if let Some((_, value)) = set.get(name) {
                    env.0.insert(format!("{prefix}{name}"), value.to_owned());
                }
            }
        }
        env
    }
}

fn isolate_set(values: &BTreeMap<SecretName, SecretValue>) -> ResolvedSecrets {
    values
        .iter()
        .map(|(key, value)| (key.as_str().to_owned(), value.expose().to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names_both_kinds_and_debug_shows_keys_only() {
        let mut resolved = ResolvedSettings::default();
        let name = |n: &str| SecretName::parse(n).unwrap();
        let value = |v: &str| SecretValue::new(v.into()).unwrap();
        resolved.user.insert(name("api_key"), value("user-secret"));
        resolved
            .system
            .insert(name("api_key"), value("system-secret"));
        let injection = SettingsInjection::new(&resolved);
        let env = injection.with_env(IsolateEnv::default());
        assert_eq!(env.0["FLUXBASE_USER_API_KEY"], "user-secret");
        assert_eq!(env.0["FLUXBASE_SETTING_API_KEY"], "system-secret");
        assert!(!format!("{injection:?}").contains("user-secret"));
    }
}
