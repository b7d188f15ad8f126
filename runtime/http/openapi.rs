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
        { "name": "name", "in": "path", "required": true, "schema": { "$ref": "#/components/schemas/SecretName" } },
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
    // Routes with a JSON body also answer 413 (too large), 415 (not sent as JSON) and 422 (JSON
    // of the wrong shape); 400 covers JSON that does not parse and values that do not validate.
    let body_errors = |extra: &[(&str, &str)]| {
        let mut responses = admin_errors(extra);
        for (code, description) in [
            ("413", "Body too large"),
            ("415", "Body not sent as application/json"),
            (
                "422",
                "Body of the wrong shape (unknown field, wrong type, missing field)",
            ),
        ] {
            responses.insert(code.into(), error_response(description));
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
                    "responses": with(body_errors(&[("409", "The secret exists")]), "201", ok("Created", secret_ref()))
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
                    "responses": with(body_errors(&[("404", "No such secret"), ("409", "if_version is not the current version")]), "200", ok("Metadata", secret_ref()))
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
                    "responses": with(body_errors(&[("404", "No such secret or version"), ("409", "The version is the current one, or if_version is not the current version")]), "200", ok("Metadata", secret_ref()))
                }
            },
            "/api/v1/admin/logs": {
                "get": {
                    "summary": "Execution and audit records, newest first",
                    "parameters": [
                        { "name": "category", "in": "query", "required": false, "description": "empty: both", "schema": { "type": "string", "enum": ["execution", "audit", ""] } },
                        { "name": "search", "in": "query", "required": false, "schema": { "type": "string", "pattern": "^[^\\u0000]*$" } },
                        { "name": "name", "in": "query", "required": false, "schema": { "type": "string", "pattern": "^[^\\u0000]*$" } },
                        { "name": "limit", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 1, "maximum": 10000 } }
                    ],
                    "responses": with(admin_errors(&[]), "200", ok("Records", json!({ "type": "array", "items": { "type": "object", "properties": { "category": { "type": "string", "enum": ["execution", "audit"] } }, "required": ["category"] } })))
                }
            },
            "/api/v1/admin/logs/executions/{id}": {
                "get": {
                    "summary": "One execution's whole record: status, error, console lines, secrets read",
                    "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[^\\u0000]*$" } }],
                    "responses": with(admin_errors(&[("404", "No such execution record")]), "200", ok("The record", json!({ "type": "object", "properties": { "id": { "type": "string" }, "logs": { "type": "array" } }, "required": ["id", "logs"] })))
                }
            },
            "/functions/v1/{name}": {
                "parameters": [{ "name": "name", "in": "path", "required": true, "schema": { "$ref": "#/components/schemas/HandlerName" } }],
                "description": "Any method; sub-paths /functions/v1/{name}/... reach the same function, which sees the full URL.",
                "get": { "summary": "Invoke a function", "security": [], "responses": {
                    "default": { "description": "The function's own response" },
                    "400": error_response("Invalid function name"),
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
                        "name": { "$ref": "#/components/schemas/SecretName" },
                        "value": { "$ref": "#/components/schemas/SecretValue" },
                        "scope": { "anyOf": [{ "$ref": "#/components/schemas/Scope" }, { "type": "null" }], "description": "absent or null: namespace scope when a namespace is given, else global" },
                        "namespace": { "anyOf": [{ "$ref": "#/components/schemas/Namespace" }, { "type": "null" }] },
                        "description": { "$ref": "#/components/schemas/Description" },
                        "expires_at": { "anyOf": [{ "$ref": "#/components/schemas/Expiry" }, { "type": "null" }] }
                    },
                    "required": ["name", "value"],
                    "allOf": [
                        {
                            "if": { "properties": { "scope": { "const": "global" } }, "required": ["scope"] },
                            "then": { "properties": { "namespace": { "type": "null" } } }
                        },
                        {
                            "if": { "properties": { "scope": { "const": "namespace" } }, "required": ["scope"] },
                            "then": { "properties": { "namespace": { "type": "string" } }, "required": ["namespace"] }
                        }
                    ],
                    "additionalProperties": false
                },
                "UpdateSecret": {
                    "type": "object",
                    "properties": {
                        "value": { "anyOf": [{ "$ref": "#/components/schemas/SecretValue" }, { "type": "null" }], "description": "absent or null: no new version, only description and expiry change" },
                        "description": { "$ref": "#/components/schemas/Description", "description": "absent: kept; null: removed" },
                        "expires_at": { "anyOf": [{ "$ref": "#/components/schemas/Expiry" }, { "type": "null" }], "description": "absent: kept (without a value) or none (with one); null: removed" },
                        "if_version": { "anyOf": [{ "$ref": "#/components/schemas/VersionNumber" }, { "type": "null" }], "description": "check-and-set, with a value only: refuse unless this is the current version" }
                    },
                    "if": { "properties": { "if_version": { "type": "integer" } }, "required": ["if_version"] },
                    "then": { "properties": { "value": { "type": "string" } }, "required": ["value"] },
                    "additionalProperties": false
                },
                "Rollback": {
                    "type": "object",
                    "properties": {
                        "version": { "type": "integer", "minimum": 1, "maximum": 9_007_199_254_740_991_i64 },
                        "if_version": { "anyOf": [{ "$ref": "#/components/schemas/VersionNumber" }, { "type": "null" }] }
                    },
                    "required": ["version"],
                    "additionalProperties": false
                }
            }
        }
    });
    extend(
        &mut doc["paths"],
        jobs_paths(&body_errors, &admin_errors, &with),
    );
    extend(&mut doc["components"]["schemas"], more_schemas());
    add_settings(&mut doc);
    doc
}

/// Adds the members of `more` to the object `target`.
fn extend(target: &mut Value, more: Value) {
    if let (Some(target), Value::Object(more)) = (target.as_object_mut(), more) {
        target.extend(more);
    }
}

type Responses = serde_json::Map<String, Value>;

/// Builds the error responses of a route, with some extra (status, description) pairs.
type ErrorResponses<'a> = &'a dyn Fn(&[(&str, &str)]) -> Responses;

/// The job routes ([`super::jobs`]).
fn jobs_paths(
    body_errors: ErrorResponses<'_>,
    admin_errors: ErrorResponses<'_>,
    with: &dyn Fn(Responses, &str, Value) -> Value,
) -> Value {
    json!({
        "/api/v1/jobs/{name}": {
            "post": {
                "summary": "Enqueue a run of a job; the body is its payload (any JSON)",
                "security": [{ "serviceKey": [] }, { "userToken": [] }],
                "parameters": [{ "name": "name", "in": "path", "required": true, "schema": { "$ref": "#/components/schemas/HandlerName" } }],
                "requestBody": { "required": true, "content": { "application/json": { "schema": {} } } },
                "responses": with(body_errors(&[("404", "No such job")]), "202", json!({
                    "description": "Enqueued",
                    "content": { "application/json": { "schema": {
                        "type": "object", "properties": { "id": { "type": "string" } }, "required": ["id"]
                    } } },
                    "links": { "run": { "operationId": "getJobRun", "parameters": { "id": "$response.body#/id" } } }
                }))
            }
        },
        "/api/v1/jobs/runs/{id}": {
            "get": {
                "operationId": "getJobRun",
                "summary": "A job run: status, attempts, result, error and the logs of its last attempt (a user token sees only its own runs)",
                "security": [{ "serviceKey": [] }, { "userToken": [] }],
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }],
                "responses": with(admin_errors(&[("404", "No such run")]), "200", ok("The run", json!({ "$ref": "#/components/schemas/JobRun" })))
            }
        }
    })
}

/// Schemas of names, values, expiry and version numbers, and of a job run.
fn more_schemas() -> Value {
    json!({
        "SecretName": {
            "type": "string",
            "description": "Letters, digits and _, not starting with a digit, case-insensitive (kept in upper case); the FLUXBASE_ prefix is reserved",
            "pattern": "^[A-Za-z_][A-Za-z0-9_]{0,127}$",
            "not": { "pattern": "^[Ff][Ll][Uu][Xx][Bb][Aa][Ss][Ee]_" }
        },
        "SecretValue": {
            "type": "string",
            "description": "Non-empty UTF-8, at most 65536 bytes; accepted, never returned",
            "minLength": 1,
            "maxLength": 65536,
            "writeOnly": true
        },
        "Expiry": {
            "description": "A duration from now (30d, 12h, 2w, 1y, 90m: any humantime duration) or an RFC 3339 time; it must be in the future and no later than 9999-12-31T23:59:59Z (else 400)",
            "anyOf": [
                { "type": "string", "pattern": "^[1-9][0-9]{0,2}(ms|s|m|h|d|w|y)$" },
                { "type": "string", "format": "date-time" }
            ]
        },
        "HandlerName": { "type": "string", "description": "Letters, digits, - and _, not starting with _", "pattern": "^[A-Za-z0-9-][A-Za-z0-9_-]*$" },
        "Description": { "type": ["string", "null"], "description": "Free text without the NUL character", "pattern": "^[^\\u0000]*$" },
        "VersionNumber": { "type": "integer", "minimum": 0, "maximum": 9_007_199_254_740_991_i64 },
        "JobRun": {
            "type": "object",
            "properties": {
                "id": { "type": "string" },
                "name": { "type": "string" },
                "payload": {},
                "status": { "type": "string", "enum": ["queued", "running", "succeeded", "failed"] },
                "attempts": { "type": "integer" },
                "max_attempts": { "type": "integer" },
                "result": {},
                "error": { "type": ["string", "null"] },
                "last_execution_id": { "type": ["string", "null"] },
                "created_at": { "type": "string", "format": "date-time" },
                "updated_at": { "type": "string", "format": "date-time" },
                "logs": { "type": "array", "items": {
                    "type": "object",
                    "properties": { "level": { "type": "string" }, "message": { "type": "string" } },
                    "required": ["level", "message"]
                } }
            },
            "required": ["id", "name", "payload", "status", "attempts", "max_attempts", "result", "error", "last_execution_id", "created_at", "updated_at", "logs"]
        }
    })
}
