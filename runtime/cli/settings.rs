//! `fluxbase settings secrets ...`: adapters from arguments to the settings service (or, with
//! `--url`, to a server's admin API), printed like `fluxbase secrets`. Values are never shown.
//! It runs no SQL and decrypts nothing.

use clap::{Args, Subcommand};
use comfy_table::Table;

use super::output::{OutputFormat, print_json, table};
use super::remote::Remote;
use super::secrets::ValueArg;
use crate::Result;
use crate::config::{Config, KeyPolicy};
use crate::settings::{
    SetOutcome, SetSetting, SettingMetadata, SettingRef, SettingScope, SettingsService, UserId,
};

/// `fluxbase settings` subcommands.
#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// Manage settings secrets: system-wide, or per user (--user).
    #[command(subcommand)]
    Secrets(SettingsSecretsCommand),
}

/// `fluxbase settings secrets` subcommands.
#[derive(Debug, Subcommand)]
pub enum SettingsSecretsCommand {
    /// List the system's settings secrets, or one user's (metadata only).
    List {
        /// A user's settings secrets instead of the system's.
        #[arg(long, value_name = "USER_ID")]
        user: Option<String>,
    },
    /// Create a settings secret, or replace its value (there is no history).
    Set {
        /// Key: letters, digits and _, case-insensitive.
        key: String,
        /// The value, or - to read it from stdin (one trailing newline is dropped).
        value: ValueArg,
        /// A user's settings secret instead of a system one.
        #[arg(long, value_name = "USER_ID")]
        user: Option<String>,
        /// Description (kept from before when not given).
        #[arg(long)]
        description: Option<String>,
    },
    /// Show a settings secret's metadata (never its value).
    Get(SettingTarget),
    /// Delete a settings secret.
    Delete(SettingTarget),
}

/// A settings secret addressed by key and optional user.
#[derive(Debug, Args)]
pub struct SettingTarget {
    /// Key.
    key: String,
    /// A user's settings secret instead of a system one.
    #[arg(long, value_name = "USER_ID")]
    user: Option<String>,
}

impl SettingsCommand {
    /// Runs the subcommand.
    pub async fn run(self, config: &Config, format: OutputFormat) -> Result<()> {
        let SettingsCommand::Secrets(command) = self;
        let access = Access::open(config).await?;
        let outcome = command
            .run_with(&access, format == OutputFormat::Json)
            .await;
        access.close().await;
        outcome
    }
}

impl SettingsSecretsCommand {
    async fn run_with(self, access: &Access, json: bool) -> Result<()> {
        match self {
            SettingsSecretsCommand::List { user } => {
                let scope = SettingScope::of(user.as_deref().map(UserId::parse).transpose()?);
                let settings = access.list(&scope).await?;
                if json {
                    print_json(&settings);
                } else if settings.is_empty() {
                    println!("No settings secrets.");
                } else {
                    println!("{}", settings_table(&settings));
                }
            }
            SettingsSecretsCommand::Set {
                key,
                value,
                user,
                description,
            } => {
                let request = SetSetting {
                    setting: SettingRef::parse(&key, user.as_deref())?,
                    value: value.into_value()?,
                    description,
                };
                let outcome = access.set(&request).await?;
                if json {
                    print_json(&outcome.metadata);
                } else if outcome.created {
                    println!("Created settings secret {}.", request.setting);
                } else {
                    println!("Replaced the value of settings secret {}.", request.setting);
                }
            }
            SettingsSecretsCommand::Get(target) => {
                let setting = SettingRef::parse(&target.key, target.user.as_deref())?;
                let metadata = access.get(&setting).await?;
                if json {
                    print_json(&metadata);
                } else {
                    println!("{}", setting_table(&metadata));
                }
            }
            SettingsSecretsCommand::Delete(target) => {
                let setting = SettingRef::parse(&target.key, target.user.as_deref())?;
                access.delete(&setting).await?;
                if json {
                    print_json(&serde_json::json!({ "deleted": true }));
                } else {
                    println!("Deleted settings secret {setting}.");
                }
            }
        }
        Ok(())
    }
}

/// Where the commands act: this host's store, or a server's admin API (`--url`).
enum Access {
    /// The store, through the settings service.
    Local(SettingsService),
    /// A server.
    Remote(Remote),
}

impl Access {
    async fn open(config: &Config) -> Result<Self> {
        match &config.remote_url {
            Some(url) => Ok(Access::Remote(Remote::new(url)?)),
            None => {
                let store = config.open_store().await?;
                let service = config
                    .open_settings(store, KeyPolicy::CreateIfMissing)
                    .await?;
                Ok(Access::Local(service))
            }
        }
    }

    async fn list(&self, scope: &SettingScope) -> Result<Vec<SettingMetadata>> {
        match self {
            Access::Local(service) => service.list(scope).await,
            Access::Remote(remote) => remote.settings_list(scope),
        }
    }

    async fn set(&self, request: &SetSetting) -> Result<SetOutcome> {
        match self {
            Access::Local(service) => service.set(request, &super::actor()).await,
            Access::Remote(remote) => remote.settings_set(request),
        }
    }

    async fn get(&self, setting: &SettingRef) -> Result<SettingMetadata> {
        match self {
            Access::Local(service) => service.get(setting).await,
            Access::Remote(remote) => remote.settings_get(setting),
        }
    }

    async fn delete(&self, setting: &SettingRef) -> Result<()> {
        match self {
            Access::Local(service) => service.delete(setting, &super::actor()).await,
            Access::Remote(remote) => remote.settings_delete(setting),
        }
    }

    async fn close(&self) {
        if let Access::Local(service) = self {
            service.close().await;
        }
    }
}

fn user_cell(metadata: &SettingMetadata) -> String {
    metadata
        .user
        .as_ref()
        .map_or("-".into(), ToString::to_string)
}

/// A table of settings secrets, one row each.
fn settings_table(settings: &[SettingMetadata]) -> Table {
    let mut table = table(&["KEY", "SCOPE", "USER", "DESCRIPTION", "UPDATED"]);
    for metadata in settings {
        table.add_row(vec![
            metadata.key.to_string(),
            metadata.scope.to_string(),
            user_cell(metadata),
            metadata.description.clone().unwrap_or_default(),
            metadata.updated_at.to_rfc3339(),
        ]);
    }
    table
}

/// A two-column table of one settings secret's metadata.
fn setting_table(metadata: &SettingMetadata) -> Table {
    let mut table = table(&["FIELD", "VALUE"]);
    let rows = [
        ("key", metadata.key.to_string()),
        ("scope", metadata.scope.to_string()),
        ("user", user_cell(metadata)),
        (
            "description",
            metadata.description.clone().unwrap_or_default(),
        ),
        ("created", metadata.created_at.to_rfc3339()),
        ("updated", metadata.updated_at.to_rfc3339()),
    ];
    for (field, value) in rows {
        table.add_row(vec![field.to_owned(), value]);
    }
    table
}
