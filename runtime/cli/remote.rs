//! The remote mode of `fluxbase secrets` and `fluxbase logs`: with `--url`, commands go to a
//! server's admin API (with `FLUXBASE_SERVICE_KEY`) and print what the local mode prints.
//! It opens no store and no key: the server does the work.

use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;

use crate::http::SERVICE_KEY_ENV;
use crate::logs::{Category, LogEntry};
use crate::secrets::{Deletion, SecretMetadata, SecretRef, SetRequest};
use crate::store::{ExecutionRecord, ListFilter, LogFilter, VersionRecord};
use crate::{Error, Result};

/// A client of one server's admin API.
pub struct Remote {
    base: String,
    key: SecretString,
    agent: ureq::Agent,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl Remote {
    /// A client of the server at `url`, authenticated with `FLUXBASE_SERVICE_KEY`.
    pub fn new(url: &str) -> Result<Self> {
        let key = std::env::var(SERVICE_KEY_ENV).map_err(|_| {
            Error::invalid(format!("--url needs the service key in {SERVICE_KEY_ENV}"))
        })?;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(Error::invalid(format!(
                "invalid --url {url:?}: use http://HOST:PORT"
            )));
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(std::time::Duration::from_secs(60)))
            .build()
            .new_agent();
        Ok(Remote {
            base: url.trim_end_matches('/').to_owned(),
            key: SecretString::from(key),
            agent,
        })
    }

    /// Sends one request; the status, and the parsed answer or the server's error message.
    pub(super) fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<(u16, std::result::Result<T, String>)> {
        let url = format!("{}{path}", self.base);
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(&url)
            .header(
                "authorization",
                format!("Bearer {}", self.key.expose_secret()),
            );
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let request = request
            .body(bytes)
            .map_err(|e| Error::invalid(format!("invalid request to {url}: {e}")))?;
        let mut response = tokio::task::block_in_place(|| self.agent.run(request))
            .map_err(|e| Error::Remote(format!("cannot reach {}: {e}", self.base)))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| Error::Remote(format!("cannot read the answer of {}: {e}", self.base)))?;
        if (200..300).contains(&status) {
            let value = serde_json::from_str(&text)
                .map_err(|e| Error::Remote(format!("unexpected answer from {}: {e}", self.base)))?;
            return Ok((status, Ok(value)));
        }
        let message = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_owned))
            .unwrap_or_else(|| format!("{} answered {status}", self.base));
        Ok((status, Err(message)))
    }

    /// Sends one request and expects success.
    pub(super) fn expect<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<T> {
        let (_, answer) = self.call(method, path, body)?;
        answer.map_err(Error::Remote)
    }

    /// `secrets list`
    pub fn list(&self, filter: &ListFilter) -> Result<Vec<SecretMetadata>> {
        let mut query = Vec::new();
        if let Some(scope) = filter.scope {
            query.push(format!("scope={scope}"));
        }
        if let Some(namespace) = &filter.namespace {
            query.push(format!("namespace={namespace}"));
        }
        if filter.deleted {
            query.push("deleted=true".to_owned());
        }
        if let Some(before) = filter.expiring_before {
            // The server counts the window from its own clock.
            let within = before.millis() - crate::time::Timestamp::now().millis();
            // The route takes at most 15 digits (over 31,000 years of milliseconds).
            let within = within.clamp(1, 999_999_999_999_999);
            query.push(format!("expiring_within={within}ms"));
        }
        self.expect("GET", &with_query("/api/v1/admin/secrets", &query), None)
    }

    /// `secrets set`: a new version of an existing secret, else a new secret.
    pub fn set(&self, request: &SetRequest) -> Result<SecretMetadata> {
        let secret = &request.secret;
        let expires_at = request.expires_at.map(|t| t.to_rfc3339());
        if request.if_version != Some(0) {
            let mut body = serde_json::json!({
                "value": request.value.expose(),
                "expires_at": expires_at,
            });
            if let Some(description) = &request.description {
                body["description"] = description.clone().into();
            }
            if let Some(expected) = request.if_version {
                body["if_version"] = expected.into();
            }
            if let Some(max_versions) = request.max_versions {
                body["max_versions"] = max_versions.unwrap_or(0).into();
            }
            let (status, answer) = self.call("PUT", &secret_path(secret, ""), Some(body))?;
            match (status, answer) {
                (_, Ok(meta)) => return Ok(meta),
                (404, Err(_)) if request.if_version.is_some() => {
                    return Err(Error::VersionConflict {
                        secret: secret.clone(),
                        expected: request.if_version.unwrap_or_default(),
                        actual: 0,
                    });
                }
                (404, Err(_)) => {}
                (_, Err(message)) => return Err(Error::Remote(message)),
            }
        }
        let mut body = serde_json::json!({
            "name": secret.name.as_str(),
            "value": request.value.expose(),
            "scope": secret.location.scope().as_str(),
            "description": request.description,
            "expires_at": expires_at,
        });
        if let Some(namespace) = secret.location.namespace() {
            body["namespace"] = namespace.as_str().into();
        }
        if let Some(max_versions) = request.max_versions {
            body["max_versions"] = max_versions.unwrap_or(0).into();
        }
        match self.call("POST", "/api/v1/admin/secrets", Some(body))? {
            (_, Ok(meta)) => Ok(meta),
            (409, Err(_)) => {
                let current = self.get(secret)?;
                Err(Error::VersionConflict {
                    secret: secret.clone(),
                    expected: request.if_version.unwrap_or_default(),
                    actual: current.version,
                })
            }
            (_, Err(message)) => Err(Error::Remote(message)),
        }
    }

    /// `secrets set A=1 B=2` and `secrets import`: one batch, written in one transaction.
    pub fn set_many(&self, requests: &[SetRequest]) -> Result<Vec<SecretMetadata>> {
        let items: Vec<serde_json::Value> = requests
            .iter()
            .map(|request| {
                let secret = &request.secret;
                let mut item = serde_json::json!({
                    "name": secret.name.as_str(),
                    "value": request.value.expose(),
                    "scope": secret.location.scope().as_str(),
                    "description": request.description,
                    "expires_at": request.expires_at.map(|t| t.to_rfc3339()),
                });
                if let Some(namespace) = secret.location.namespace() {
                    item["namespace"] = namespace.as_str().into();
                }
                if let Some(max_versions) = request.max_versions {
                    item["max_versions"] = max_versions.unwrap_or(0).into();
                }
                item
            })
            .collect();
        let body = serde_json::json!({ "secrets": items });
        self.expect("PATCH", "/api/v1/admin/secrets", Some(body))
    }

    /// `secrets get`
    pub fn get(&self, secret: &SecretRef) -> Result<SecretMetadata> {
        self.expect("GET", &secret_path(secret, ""), None)
    }

    /// `secrets delete`
    pub fn delete(&self, secret: &SecretRef) -> Result<Deletion> {
        #[derive(serde::Deserialize)]
        struct Answer {
            version: i64,
            versions: i64,
            purge_at: crate::time::Timestamp,
        }
        let answer: Answer = self.expect("DELETE", &secret_path(secret, ""), None)?;
        Ok(Deletion {
            version: answer.version,
            kept_versions: answer.versions,
            purge_at: answer.purge_at,
        })
    }

    /// `secrets undelete`
    pub fn undelete(&self, secret: &SecretRef) -> Result<SecretMetadata> {
        self.expect("POST", &secret_path(secret, "/undelete"), None)
    }

    /// `secrets destroy`: how many versions were destroyed.
    pub fn destroy(&self, secret: &SecretRef) -> Result<i64> {
        let answer: serde_json::Value =
            self.expect("POST", &secret_path(secret, "/destroy"), None)?;
        Ok(answer["versions"].as_i64().unwrap_or_default())
    }

    /// `secrets history`
    pub fn history(&self, secret: &SecretRef) -> Result<(SecretMetadata, Vec<VersionRecord>)> {
        let meta = self.get(secret)?;
        let versions = self.expect("GET", &secret_path(secret, "/history"), None)?;
        Ok((meta, versions))
    }

    /// `secrets rollback`
    pub fn rollback(
        &self,
        secret: &SecretRef,
        version: i64,
        if_version: Option<i64>,
    ) -> Result<SecretMetadata> {
        let body = serde_json::json!({ "version": version, "if_version": if_version });
        self.expect("POST", &secret_path(secret, "/rollback"), Some(body))
    }

    /// `logs show`
    pub fn execution(&self, id: &str) -> Result<ExecutionRecord> {
        let path = format!("/api/v1/admin/logs/executions/{}", encode(id));
        self.expect("GET", &path, None)
    }

    /// `logs list`
    pub fn logs(&self, category: Option<Category>, filter: &LogFilter) -> Result<Vec<LogEntry>> {
        let mut query = vec![format!("limit={}", filter.limit)];
        if let Some(category) = category {
            let name = match category {
                Category::Execution => "execution",
                Category::Audit => "audit",
            };
            query.push(format!("category={name}"));
        }
        if let Some(name) = &filter.name {
            query.push(format!("name={}", encode(name)));
        }
        if let Some(search) = &filter.search {
            query.push(format!("search={}", encode(search)));
        }
        for (key, at) in [("since", filter.since), ("until", filter.until)] {
            if let Some(at) = at {
                // To the millisecond: the store compares milliseconds.
                let at = at
                    .to_datetime()
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
                query.push(format!("{key}={}", encode(&at)));
            }
        }
        self.expect("GET", &with_query("/api/v1/admin/logs", &query), None)
    }
}

fn secret_path(secret: &SecretRef, suffix: &str) -> String {
    let path = format!("/api/v1/admin/secrets/{}{suffix}", secret.name);
    match secret.location.namespace() {
        Some(namespace) => format!("{path}?namespace={namespace}"),
        None => path,
    }
}

fn with_query(path: &str, query: &[String]) -> String {
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

/// Percent-encodes a query value.
pub(super) fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
