//! The OpenAPI 3.1 document served at `GET /api/v1/openapi.json`: the paths come from the route
//! table (`routes`), generated from each handler's `#[utoipa::path]`; this module adds what
//! belongs to the whole document (info, security schemes) and the few JSON Schema keywords
//! utoipa's model has no field for. It describes; it does not route or check.

use serde_json::{Value, json};
use utoipa::openapi::security::{Http, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::schemas::{ErrorBody, HandlerNameInput, RunAtInput};

/// The document's frame: info, default security, shared schemas.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "fluxbase-runtime",
        description = "Admin API for encrypted, versioned function secrets, settings secrets, \
                       jobs and logs, and function invocation. Secret values are accepted, never \
                       returned."
    ),
    security(("serviceKey" = [])),
    // HandlerName and RunAt are referenced by parameters only, which do not register their
    // schemas.
    components(schemas(ErrorBody, HandlerNameInput, RunAtInput)),
    modifiers(&SecuritySchemes)
)]
pub struct ApiDoc;

/// Adds the two credentials: the service key and a user token.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "serviceKey",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        components.add_security_scheme(
            "userToken",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "HS256 JWT signed with FLUXBASE_JWT_SECRET; sub is the user id, exp is \
                         required",
                    ))
                    .build(),
            ),
        );
    }
}

/// The document as served: `api` (the frame merged with every route's description) as JSON,
/// with the rules utoipa cannot express added.
pub fn document(api: utoipa::openapi::OpenApi) -> Value {
    let mut doc = serde_json::to_value(api).expect("an OpenAPI document serializes");
    refine(&mut doc);
    doc
}

/// Rules between fields and negative patterns (JSON Schema `not`, `if`/`then`), which the
/// routes check and utoipa's schema model has no field for, and the link from an enqueue to
/// its run.
fn refine(doc: &mut Value) {
    let schemas = &mut doc["components"]["schemas"];
    schemas["SecretName"]["not"] = json!({ "pattern": "^[Ff][Ll][Uu][Xx][Bb][Aa][Ss][Ee]_" });
    schemas["CreateSecret"]["allOf"] = json!([
        {
            "if": { "properties": { "scope": { "const": "global" } }, "required": ["scope"] },
            "then": { "properties": { "namespace": { "type": "null" } } }
        },
        {
            "if": { "properties": { "scope": { "const": "namespace" } }, "required": ["scope"] },
            "then": { "properties": { "namespace": { "type": "string" } }, "required": ["namespace"] }
        }
    ]);
    schemas["UpdateSecret"]["if"] = json!({ "properties": { "if_version": { "type": "integer" } }, "required": ["if_version"] });
    schemas["UpdateSecret"]["then"] =
        json!({ "properties": { "value": { "type": "string" } }, "required": ["value"] });
    let enqueued = &mut doc["paths"]["/api/v1/jobs/{name}"]["post"]["responses"]["202"];
    if enqueued.is_object() {
        enqueued["links"] = json!({
            "run": { "operationId": "getJobRun", "parameters": { "id": "$response.body#/id" } },
            "cancel": { "operationId": "cancelJobRun", "parameters": { "id": "$response.body#/id" } },
            "retry": { "operationId": "retryJobRun", "parameters": { "id": "$response.body#/id" } }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refined_schemas_exist_in_the_generated_document() {
        let (_, api) = utoipa_axum::router::OpenApiRouter::<super::super::AppState>::with_openapi(
            ApiDoc::openapi(),
        )
        .merge(super::super::routes::admin())
        .merge(super::super::routes::jobs())
        .split_for_parts();
        let doc = document(api);
        let schemas = &doc["components"]["schemas"];
        // Refining a schema the routes no longer use would add a stray component: each refined
        // one must also have been generated (it has a type or a list of properties).
        for name in ["SecretName", "CreateSecret", "UpdateSecret"] {
            let schema = schemas[name].as_object().unwrap();
            assert!(
                schema.contains_key("type") || schema.contains_key("properties"),
                "{name} is not generated: {schema:?}"
            );
        }
        assert!(
            doc["paths"]["/api/v1/jobs/{name}"]["post"]["responses"]["202"]["links"].is_object()
        );
    }
}
