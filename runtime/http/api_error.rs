//! Errors as the API answers them: a fitting status and `{"error": "..."}`. Messages come from
//! [`crate::Error`], which never holds a secret value; internal failures are logged and
//! answered without details. It maps errors only: it calls no service and runs no query.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::Error;
use crate::invoke::ExecutionFailure;

/// Status 546: the function ran out of memory or CPU time (as Supabase's edge runtime answers
/// when a worker hits a resource limit).
pub const OUT_OF_MEMORY: u16 = 546;

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    retry_after_seconds: Option<u64>,
}

impl ApiError {
    /// An error with this status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            retry_after_seconds: None,
        }
    }

    /// The same error, telling the client to retry after `seconds` (`Retry-After`).
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after_seconds = Some(seconds);
        self
    }

    /// 400 Bad Request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// The status it answers with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The message of its `{"error": ...}` body.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        if let Some(reason) = error.storage_refusal() {
            tracing::error!("request failed: {error}");
            return ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("{reason}: the change was not made"),
            );
        }
        let status = match &error {
            Error::Invalid(_) | Error::Remote(_) => StatusCode::BAD_REQUEST,
            Error::NotFound(_)
            | Error::Deleted { .. }
            | Error::VersionDestroyed { .. }
            | Error::SettingNotFound(_)
            | Error::UnknownVersion { .. }
            | Error::NoHandler { .. }
            | Error::NoJobRun(_)
            | Error::NoExecution(_) => StatusCode::NOT_FOUND,
            Error::VersionConflict { .. } | Error::Conflict(_) | Error::NotDeleted(_) => {
                StatusCode::CONFLICT
            }
            Error::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Error::Execution { failure, .. } => match failure {
                ExecutionFailure::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
                ExecutionFailure::OutOfMemory { .. } | ExecutionFailure::CpuTime(_) => {
                    StatusCode::from_u16(OUT_OF_MEMORY).expect("valid status")
                }
                ExecutionFailure::Cancelled => StatusCode::CONFLICT,
                ExecutionFailure::Boot(_) | ExecutionFailure::Exception(_) => {
                    StatusCode::INTERNAL_SERVER_ERROR
                }
            },
            Error::Tampered { .. }
            | Error::SettingTampered(_)
            | Error::WrongMasterKey { .. }
            | Error::MasterKey(_)
            | Error::Database(_)
            | Error::Migration(_)
            | Error::Io { .. } => {
                tracing::error!("request failed: {error}");
                return ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
            }
        };
        ApiError::new(status, error.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(serde_json::json!({ "error": self.message })),
        )
            .into_response();
        if let Some(seconds) = self.retry_after_seconds {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}
