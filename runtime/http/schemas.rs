//! The OpenAPI schemas of the domain's value types (names, namespaces, scopes, times) and of the
//! error answers every route shares. The routes' own bodies derive theirs next to the handler;
//! this module only says what a bare string or number of the domain looks like on the wire. It
//! owns no behaviour: parsing and validation stay in `secrets` and `settings`.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaFormat, SchemaType, Type};
use utoipa::openapi::{
    ContentBuilder, KnownFormat, RefOr, Response, ResponseBuilder, schema::AnyOfBuilder,
};
use utoipa::{IntoResponses, PartialSchema, ToSchema};

use crate::crypto::KeyId;
use crate::secrets::{Namespace, SecretName};
use crate::settings::UserId;
use crate::time::Timestamp;

/// The body of every error answer: `{"error": "..."}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    /// What went wrong, for a person; never holds a secret value.
    pub error: String,
}

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(SchemaType::new(Type::String))
}

/// Declares a named component schema for a domain type.
macro_rules! component {
    ($type:ty, $name:literal, $schema:expr) => {
        impl PartialSchema for $type {
            fn schema() -> RefOr<Schema> {
                $schema.into()
            }
        }
        impl ToSchema for $type {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }
    };
}

component!(
    SecretName,
    "SecretName",
    string()
        .description(Some(
            "Letters, digits and _, not starting with a digit, case-insensitive (kept in upper \
             case); the FLUXBASE_ prefix is reserved",
        ))
        .pattern(Some("^[A-Za-z_][A-Za-z0-9_]{0,127}$"))
        .build()
);
component!(
    Namespace,
    "Namespace",
    string().pattern(Some("^[a-z0-9_-]{1,64}$")).build()
);
component!(
    UserId,
    "UserId",
    string()
        .pattern(Some("^[A-Za-z0-9._@:|+-]{1,255}$"))
        .build()
);
component!(
    Timestamp,
    "Timestamp",
    string()
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
        .build()
);
component!(
    KeyId,
    "KeyId",
    string()
        .description(Some("Which master key wraps the version's data key"))
        .build()
);

/// A secret's value in a request: accepted, never returned.
pub struct SecretValueInput;
component!(
    SecretValueInput,
    "SecretValue",
    string()
        .description(Some(
            "Non-empty UTF-8, at most 65536 bytes; accepted, never returned"
        ))
        .min_length(Some(1))
        .max_length(Some(65536))
        .write_only(true)
        .build()
);

/// When a value stops being injected: a duration from now or a time.
pub struct ExpiryInput;
component!(
    ExpiryInput,
    "Expiry",
    AnyOfBuilder::new()
        .description(Some(
            "A duration from now (30d, 12h, 2w, 1y, 90m: any humantime duration) or an RFC 3339 \
             time; it must be in the future and no later than 9999-12-31T23:59:59Z (else 400)",
        ))
        .item(string().pattern(Some("^[1-9][0-9]{0,2}(ms|s|m|h|d|w|y)$")))
        .item(string().format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))))
        .build()
        .into_schema()
);

/// When a job run may start: a delay from now or a time.
pub struct RunAtInput;
component!(
    RunAtInput,
    "RunAt",
    AnyOfBuilder::new()
        .description(Some(
            "A delay from now (a number of up to 4 digits and ms, s, m, h or d: 30s, 5m, 2h, 1d) \
             or an RFC 3339 time (a past time means now)",
        ))
        .item(string().pattern(Some("^[0-9]{1,4}(ms|s|m|h|d)$")))
        .item(string().format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))))
        .build()
        .into_schema()
);

/// The name of a function or a job.
pub struct HandlerNameInput;
component!(
    HandlerNameInput,
    "HandlerName",
    string()
        .description(Some("Letters, digits, - and _, not starting with _"))
        .pattern(Some("^[A-Za-z0-9-][A-Za-z0-9_-]*$"))
        .build()
);

/// Free text: a description.
pub struct DescriptionInput;
component!(
    DescriptionInput,
    "Description",
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .description(Some("Free text without the NUL character"))
        .pattern(Some("^[^\\u0000]*$"))
        .build()
);

/// A version number in a check-and-set (`0`: the secret must not exist yet).
pub struct VersionNumberInput;
component!(
    VersionNumberInput,
    "VersionNumber",
    ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::Integer))
        .minimum(Some(0))
        .maximum(Some(9_007_199_254_740_991_i64))
        .build()
);

/// The cap on a secret's kept versions (`0`: keep them all).
pub struct MaxVersionsInput;
component!(
    MaxVersionsInput,
    "MaxVersions",
    ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::Integer))
        .description(Some(
            "Keep only the newest N versions, destroying older ones; 0 keeps them all"
        ))
        .minimum(Some(0))
        .maximum(Some(crate::secrets::MAX_MAX_VERSIONS))
        .build()
);

fn error(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(ErrorBody::schema_ref()))
                .build(),
        )
        .build()
        .into()
}

/// Implements [`IntoResponses`] for a list of (status, description) error answers.
macro_rules! error_answers {
    ($(#[$doc:meta])* $name:ident: $($status:literal => $description:literal),+ $(,)?) => {
        $(#[$doc])*
        pub struct $name;
        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                BTreeMap::from([$(($status.to_owned(), error($description))),+])
            }
        }
    };
}

error_answers!(
    /// What every route behind the service key can answer besides its own result.
    AdminErrors:
    "400" => "Invalid input",
    "401" => "Missing or wrong service key",
);

error_answers!(
    /// What every user-token route can answer besides its own result.
    UserErrors:
    "400" => "Invalid input",
    "401" => "Missing, invalid or expired user token",
);

error_answers!(
    /// What a route with a JSON body also answers: 400 covers JSON that does not parse and values
    /// that do not validate; 422 JSON of the wrong shape.
    BodyErrors:
    "413" => "Body too large",
    "415" => "Body not sent as application/json",
    "422" => "Body of the wrong shape (unknown field, wrong type, missing field)",
);

/// An `anyOf` as a schema.
trait IntoSchema {
    fn into_schema(self) -> Schema;
}

impl IntoSchema for utoipa::openapi::schema::AnyOf {
    fn into_schema(self) -> Schema {
        Schema::AnyOf(self)
    }
}

/// Helpers for handlers' `#[utoipa::path]` attributes.
trait SchemaRef {
    fn schema_ref() -> RefOr<Schema>;
}

impl<T: ToSchema> SchemaRef for T {
    fn schema_ref() -> RefOr<Schema> {
        RefOr::Ref(utoipa::openapi::Ref::from_schema_name(T::name()))
    }
}
