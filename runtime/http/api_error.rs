//! Errors as the API answers them: a fitting status and `{"error": "..."}`. Messages come from
//! [`crate::Error`], which never holds a secret value; internal failures are logged and
//! answered without details.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::Error;
use crate::invoke::ExecutionFailure;

/// Status 546: the function ran out of memory (as Supabase's edge runtime answers).
pub const OUT_OF_MEMORY: u16 = 546;

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    /// An error with this status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// 400 Bad Request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        let status = match &error {
            Error::Invalid(_) | Error::Remote(_) => StatusCode::BAD_REQUEST,
            Error::NotFound(_) | Error::SettingNotFound(_) | Error::UnknownVersion { .. } => {
                StatusCode::NOT_FOUND
            }
            Error::VersionConflict { .. } => StatusCode::CONFLICT,
            Error::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Error::Execution { failure, .. } => match failure {
                ExecutionFailure::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
                ExecutionFailure::OutOfMemory { .. } => {
                    StatusCode::from_u16(OUT_OF_MEMORY).expect("valid status")
                }
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
        (
            self.status,
            Json(serde_json::json!({ "error": self.message })),
        )
            .into_response()
    }
}
