//! Extractors whose every rejection is a 4xx `{"error": ...}` that never echoes the request's
//! values.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::api_error::ApiError;

/// `Json<T>` with API-shaped rejections.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(rejection_error(rejection)),
        }
    }
}

/// `Query<T>` with API-shaped rejections.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(ApiError::bad_request(format!(
                "invalid query string: {}",
                without_input(&rejection.body_text())
            ))),
        }
    }
}

fn rejection_error(rejection: JsonRejection) -> ApiError {
    let status = rejection.status();
    let message = match &rejection {
        JsonRejection::MissingJsonContentType(_) => {
            "send the body as JSON with Content-Type: application/json".to_owned()
        }
        JsonRejection::JsonSyntaxError(_) => "the request body is not valid JSON".to_owned(),
        JsonRejection::JsonDataError(_) => format!(
            "invalid request body: {}",
            without_input(&rejection.body_text())
        ),
        _ => "the request body could not be read".to_owned(),
    };
    ApiError::new(status, message)
}

/// serde quotes offending input between backticks (`invalid type: integer `42``); field names
/// are quoted the same way. Keep field names, drop quoted input.
fn without_input(text: &str) -> String {
    let text = text
        .split_once("target type: ")
        .map_or(text, |(_, rest)| rest);
    if !(text.contains("invalid type")
        || text.contains("invalid value")
        || text.contains("invalid length"))
    {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut quoted = false;
    for c in text.chars() {
        if c == '`' {
            quoted = !quoted;
            if !quoted {
                out.push_str("`…`");
            }
        } else if !quoted {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::without_input;

    #[test]
    fn drops_quoted_input_but_keeps_field_names() {
        assert_eq!(
            without_input("value: invalid type: integer `123456`, expected a string at line 1"),
            "value: invalid type: integer `…`, expected a string at line 1"
        );
        assert_eq!(
            without_input("unknown field `valu`, expected one of `name`, `value`"),
            "unknown field `valu`, expected one of `name`, `value`"
        );
    }
}
