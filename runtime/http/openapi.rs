//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 description of every route and body.

use axum::Json;
use serde_json::{Value, json};

/// The document.
pub async fn document() -> Json<Value> {
    Json(spec())
}

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
    })
}

fn name_parameters() -> Value {
    json!([
        { "name": "name", "in": "path", "required": true, "schema": { "type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]{0,127}$" } },
        { "name": "namespace", "in": "query", "required": false, "schema": { "$ref": "#/components/schemas/Namespace" } }
    ])
}

fn json_body(schema: &str) -> Value {
    json!({
        "required": true,
        "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } }
    })
}

fn ok(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

fn secret_ref() -> Value {
    json!({ "$ref": "#/components/schemas/SecretMetadata" })
}

/// Adds the settings secrets routes ([`super::settings`]) and the user token scheme.
fn add_settings(doc: &mut Value) {
    let (paths, schemas) = super::settings::openapi();
    for (section, more) in [("paths", paths), ("schemas", schemas)] {
        let target = match section {
            "paths" => &mut doc["paths"],
            _ => &mut doc["components"]["schemas"],
        };
        if let (Some(target), Value::Object(more)) = (target.as_object_mut(), more) {
            target.extend(more);
        }
    }
    if let Some(description) = doc["paths"]["/functions/v1/{name}"]["description"].as_str() {
        doc["paths"]["/functions/v1/{name}"]["description"] = format!(
            "{description} With Authorization: Bearer <user token> (a JWT) the call is made for \
             that user, whose settings secrets the function then sees; an invalid one is 401."
        )
        .into();
    }
    doc["components"]["securitySchemes"]["userToken"] = json!({
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "HS256 JWT signed with FLUXBASE_JWT_SECRET; sub is the user id, exp is required"
    });
}

/// The OpenAPI document as JSON.
pub fn spec() -> Value {
    let admin_errors = |extra: &[(&str, &str)]| {
        let mut responses = serde_json::Map::new();
        responses.insert("400".into(), error_response("Invalid input"));
        responses.insert("401".into(), error_response("Missing or wrong service key"));
        for (code, description) in extra {
            responses.insert((*code).into(), error_response(description));
        }
        responses
    };
    let with = |mut base: serde_json::Map<String, Value>, code: &str, response: Value| {
        base.insert(code.into(), response);
        Value::Object(base)
    };
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "fluxbase-runtime",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Admin API for encrypted, versioned function secrets, and function invocation. Secret values are accepted, never returned."
        },
        "security": [{ "serviceKey": [] }],
        "paths": {
            "/health": {
                "get": {
                    "summary": "Whether the store is reachable",
                    "security": [],
                    "responses": {
                        "200": ok("The store is reachable", json!({ "type": "object", "properties": { "status": { "type": "string" } }, "required": ["status"] })),
                        "503": error_response("The store is not reachable")
                    }
                }
            },
            "/api/v1/admin/secrets": {
                "get": {
                    "summary": "List secrets (metadata only)",
                    "parameters": [
                        { "name": "scope", "in": "query", "required": false, "schema": { "$ref": "#/components/schemas/Scope" } },
                        { "name": "namespace", "in": "query", "required": false, "schema": { "$ref": "#/components/schemas/Namespace" } }
                    ],
                    "responses": with(admin_errors(&[]), "200", ok("Secrets", json!({ "type": "array", "items": secret_ref() })))
                },
                "post": {
                    "summary": "Create a secret",
                    "requestBody": json_body("CreateSecret"),
                    "responses": with(admin_errors(&[("409", "The secret exists"), ("413", "Body too large")]), "201", ok("Created", secret_ref()))
                }
            },
            "/api/v1/admin/secrets/{name}": {
                "parameters": name_parameters(),
                "get": {
                    "summary": "A secret's metadata",
                    "responses": with(admin_errors(&[("404", "No such secret")]), "200", ok("Metadata", secret_ref()))
                },
                "put": {
                    "summary": "Write a new version (with value) or change description/expiry (without)",
                    "requestBody": json_body("UpdateSecret"),
                    "responses": with(admin_errors(&[("404", "No such secret"), ("413", "Body too large")]), "200", ok("Metadata", secret_ref()))
                },
                "delete": {
                    "summary": "Delete a secret and all its versions",
                    "responses": with(admin_errors(&[("404", "No such secret")]), "200", ok("Deleted", json!({
                        "type": "object",
                        "properties": { "deleted": { "type": "boolean" }, "versions": { "type": "integer" } },
                        "required": ["deleted", "versions"]
                    })))
                }
            },
            "/api/v1/admin/secrets/{name}/history": {
                "parameters": name_parameters(),
                "get": {
                    "summary": "A secret's versions, oldest first",
                    "responses": with(admin_errors(&[("404", "No such secret")]), "200", ok("Versions", json!({ "type": "array", "items": { "$ref": "#/components/schemas/Version" } })))
                }
            },
            "/api/v1/admin/secrets/{name}/rollback": {
                "parameters": name_parameters(),
                "post": {
                    "summary": "Write an old version's value again as a new version",
                    "requestBody": json_body("Rollback"),
                    "responses": with(admin_errors(&[("404", "No such secret or version")]), "200", ok("Metadata", secret_ref()))
                }
            },
            "/api/v1/admin/logs": {
                "get": {
                    "summary": "Execution and audit records, newest first",
                    "parameters": [
                        { "name": "category", "in": "query", "required": false, "schema": { "type": "string", "enum": ["execution", "audit"] } },
                        { "name": "search", "in": "query", "required": false, "schema": { "type": "string" } },
                        { "name": "name", "in": "query", "required": false, "schema": { "type": "string" } },
                        { "name": "limit", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 1, "maximum": 10000 } }
                    ],
                    "responses": with(admin_errors(&[]), "200", ok("Records", json!({ "type": "array", "items": { "type": "object", "properties": { "category": { "type": "string", "enum": ["execution", "audit"] } }, "required": ["category"] } })))
                }
            },
            "/functions/v1/{name}": {
                "parameters": [{ "name": "name", "in": "path", "required": true, "schema": { "type": "string" } }],
                "description": "Any method; sub-paths /functions/v1/{name}/... reach the same function, which sees the full URL.",
                "get": { "summary": "Invoke a function", "security": [], "responses": {
                    "default": { "description": "The function's own response" },
                    "404": error_response("No such function"),
                    "413": error_response("Body too large"),
                    "500": error_response("The function failed"),
                    "504": error_response("The function timed out"),
                    "546": error_response("The function ran out of memory")
                } },
                "post": { "summary": "Invoke a function", "security": [], "responses": { "default": { "description": "The function's own response" } } }
            }
        },
        "components": {
            "securitySchemes": { "serviceKey": { "type": "http", "scheme": "bearer" } },
            "schemas": {
                "Error": { "type": "object", "properties": { "error": { "type": "string" } }, "required": ["error"] },
                "Scope": { "type": "string", "enum": ["global", "namespace"] },
                "Namespace": { "type": "string", "pattern": "^[a-z0-9_-]{1,64}$" },
                "SecretMetadata": {
                    "type": "object",
                    "properties": {
                        "name": { "type": "string" },
                        "scope": { "$ref": "#/components/schemas/Scope" },
                        "namespace": { "type": ["string", "null"] },
                        "version": { "type": "integer" },
                        "description": { "type": ["string", "null"] },
                        "expires_at": { "type": ["string", "null"], "format": "date-time" },
                        "expired": { "type": "boolean" },
                        "created_at": { "type": "string", "format": "date-time" },
                        "updated_at": { "type": "string", "format": "date-time" }
                    },
                    "required": ["name", "scope", "namespace", "version", "description", "expires_at", "expired", "created_at", "updated_at"],
                    "additionalProperties": false
                },
                "Version": {
                    "type": "object",
                    "properties": {
                        "version": { "type": "integer" },
                        "key_id": { "type": "string" },
                        "created_at": { "type": "string", "format": "date-time" },
                        "created_by": { "type": "string" },
                        "restored_from": { "type": ["integer", "null"] }
                    },
                    "required": ["version", "key_id", "created_at", "created_by", "restored_from"]
                },
                "CreateSecret": {
                    "type": "object",
                    "properties": {
                        "name": { "type": "string" },
                        "value": { "type": "string", "minLength": 1, "writeOnly": true },
                        "scope": { "$ref": "#/components/schemas/Scope" },
                        "namespace": { "$ref": "#/components/schemas/Namespace" },
                        "description": { "type": ["string", "null"] },
                        "expires_at": { "type": ["string", "null"], "format": "date-time" }
                    },
                    "required": ["name", "value"],
                    "additionalProperties": false
                },
                "UpdateSecret": {
                    "type": "object",
                    "properties": {
                        "value": { "type": "string", "minLength": 1, "writeOnly": true },
                        "description": { "type": ["string", "null"] },
                        "expires_at": { "type": ["string", "null"], "format": "date-time" },
                        "if_version": { "type": "integer", "minimum": 0 }
                    },
                    "additionalProperties": false
                },
                "Rollback": {
                    "type": "object",
                    "properties": {
                        "version": { "type": "integer", "minimum": 1 },
                        "if_version": { "type": "integer", "minimum": 0 }
                    },
                    "required": ["version"],
                    "additionalProperties": false
                }
            }
        }
    });
    add_settings(&mut doc);
    doc
}
