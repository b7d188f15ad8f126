//! Extractors whose every rejection is a 4xx `{"error": ...}` that never echoes the request's
//! values. Parsing only: no service, no store.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::{self, DeserializeOwned, Unexpected, Visitor};
use serde::{Deserialize, Deserializer};

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

/// Deserializes an integer written `3` or `3.0`: JSON Schema's `integer` (the OpenAPI document's)
/// admits both. Fractions, and floats past 2^53 (no longer exact), are refused.
pub(super) fn whole_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    struct WholeNumber;
    impl Visitor<'_> for WholeNumber {
        type Value = i64;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an integer")
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
            i64::try_from(v).map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
            const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
            if v.fract() == 0.0 && (-EXACT..=EXACT).contains(&v) {
                Ok(v as i64)
            } else {
                Err(E::invalid_value(Unexpected::Float(v), &self))
            }
        }
    }
    deserializer.deserialize_any(WholeNumber)
}

/// [`whole_number`] for an optional field (absent or null: `None`).
pub(super) fn optional_whole_number<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    struct Whole(#[serde(deserialize_with = "whole_number")] i64);
    Ok(Option::<Whole>::deserialize(deserializer)?.map(|Whole(n)| n))
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

/// The API error of a body that did not parse (status as axum gives it: 400, 413, 415, 422).
pub(super) fn rejection_error(rejection: JsonRejection) -> ApiError {
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
        _ if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
            "the request body is larger than this route accepts".to_owned()
        }
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
