//! The remote mode of `fluxbase settings secrets`: the admin settings routes of a server
//! (`/api/v1/admin/settings/secrets`), answering what the local mode answers. No store, no key.

use super::remote::{Remote, encode};
use crate::settings::{SetOutcome, SetSetting, SettingMetadata, SettingRef, SettingScope};
use crate::{Error, Result};

const BASE: &str = "/api/v1/admin/settings/secrets";

impl Remote {
    /// `settings secrets list`
    pub fn settings_list(&self, scope: &SettingScope) -> Result<Vec<SettingMetadata>> {
        self.expect("GET", &with_user(BASE.to_owned(), scope), None)
    }

    /// `settings secrets set`: 201 when created, 200 when the value was replaced.
    pub fn settings_set(&self, request: &SetSetting) -> Result<SetOutcome> {
        let mut body = serde_json::json!({ "value": request.value.expose() });
        if let Some(description) = &request.description {
            body["description"] = description.clone().into();
        }
        match self.call("PUT", &path(&request.setting), Some(body))? {
            (status, Ok(metadata)) => Ok(SetOutcome {
                metadata,
                created: status == 201,
            }),
            (_, Err(message)) => Err(Error::Remote(message)),
        }
    }

    /// `settings secrets get`
    pub fn settings_get(&self, setting: &SettingRef) -> Result<SettingMetadata> {
        self.expect("GET", &path(setting), None)
    }

    /// `settings secrets delete`
    pub fn settings_delete(&self, setting: &SettingRef) -> Result<()> {
        let _: serde_json::Value = self.expect("DELETE", &path(setting), None)?;
        Ok(())
    }
}

fn path(setting: &SettingRef) -> String {
    with_user(format!("{BASE}/{}", setting.key), &setting.scope)
}

fn with_user(path: String, scope: &SettingScope) -> String {
    match scope.user() {
        Some(user) => format!("{path}?user={}", encode(user.as_str())),
        None => path,
    }
}
