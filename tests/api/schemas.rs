//! Every `inputSchema` and `outputSchema` in `tools/list` uses only JSON
//! Schema 2020-12's own keywords and `format` values, so no client warns
//! about an unknown format or drops a constraint; no input offers `null`
//! or a `type` array (optional means absent), and every `$ref` resolves.

use serde_json::{Value, json};

use crate::helpers::spawn_app;

/// The keywords of JSON Schema 2020-12's vocabularies (core, applicator,
/// unevaluated, validation, format annotation, content, meta-data).
const KEYWORDS: &[&str] = &[
    "$schema",
    "$id",
    "$ref",
    "$anchor",
    "$dynamicRef",
    "$dynamicAnchor",
    "$vocabulary",
    "$comment",
    "$defs",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "if",
    "then",
    "else",
    "dependentSchemas",
    "prefixItems",
    "items",
    "contains",
    "properties",
    "patternProperties",
    "additionalProperties",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "type",
    "enum",
    "const",
    "multipleOf",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "maxContains",
    "minContains",
    "maxProperties",
    "minProperties",
    "required",
    "dependentRequired",
    "format",
    "contentEncoding",
    "contentMediaType",
    "contentSchema",
    "title",
    "description",
    "default",
    "deprecated",
    "readOnly",
    "writeOnly",
    "examples",
];

/// Written out here rather than taken from `crypto_mcp::mcp::schema`, so a
/// wrong entry there fails this test instead of passing it.
const FORMATS: &[&str] = &[
    "date-time",
    "date",
    "time",
    "duration",
    "email",
    "idn-email",
    "hostname",
    "idn-hostname",
    "ipv4",
    "ipv6",
    "uri",
    "uri-reference",
    "iri",
    "iri-reference",
    "uuid",
    "uri-template",
    "json-pointer",
    "relative-json-pointer",
    "regex",
];

const ONE: &[&str] = &[
    "items",
    "additionalProperties",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "contentSchema",
];
const MANY: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems"];
const MAP: &[&str] = &[
    "properties",
    "patternProperties",
    "$defs",
    "dependentSchemas",
];

/// What is wrong with `schema` (and its subschemas) at `at`.
fn problems(schema: &Value, root: &Value, input: bool, at: &str, found: &mut Vec<String>) {
    let Some(object) = schema.as_object() else {
        if !schema.is_boolean() {
            found.push(format!("{at}: not a schema: {schema}"));
        }
        return;
    };
    for (keyword, value) in object {
        let here = format!("{at}/{keyword}");
        if !KEYWORDS.contains(&keyword.as_str()) {
            found.push(format!("{here}: not a JSON Schema 2020-12 keyword"));
        }
        match keyword.as_str() {
            "format" if !value.as_str().is_some_and(|f| FORMATS.contains(&f)) => {
                found.push(format!("{here}: non-standard format {value}"));
            }
            "type" if value.is_array() => {
                found.push(format!("{here}: a type array {value}"));
            }
            "type" if input && value == "null" => {
                found.push(format!("{here}: an input offering null"));
            }
            "enum" | "default" if input && offers_null(keyword, value) => {
                found.push(format!("{here}: an input offering null"));
            }
            "$ref" => {
                let target = value
                    .as_str()
                    .and_then(|r| r.strip_prefix('#'))
                    .and_then(|pointer| root.pointer(pointer));
                if target.is_none() {
                    found.push(format!("{here}: {value} does not resolve"));
                }
            }
            _ => {}
        }
        if ONE.contains(&keyword.as_str()) {
            problems(value, root, input, &here, found);
        } else if MANY.contains(&keyword.as_str()) {
            for (i, sub) in value.as_array().into_iter().flatten().enumerate() {
                problems(sub, root, input, &format!("{here}/{i}"), found);
            }
        } else if MAP.contains(&keyword.as_str()) {
            for (name, sub) in value.as_object().into_iter().flatten() {
                problems(sub, root, input, &format!("{here}/{name}"), found);
            }
        }
    }
}

/// `null` among an `enum`'s values, or as a `default`.
fn offers_null(keyword: &str, value: &Value) -> bool {
    match keyword {
        "enum" => value.as_array().is_some_and(|v| v.contains(&Value::Null)),
        _ => value.is_null(),
    }
}

fn all_problems(tools: &[Value]) -> Vec<String> {
    let mut found = Vec::new();
    for tool in tools {
        let name = tool["name"].as_str().unwrap_or("?");
        for (field, input) in [("inputSchema", true), ("outputSchema", false)] {
            let schema = &tool[field];
            problems(
                schema,
                schema,
                input,
                &format!("{name}.{field}"),
                &mut found,
            );
        }
    }
    found
}

#[tokio::test]
async fn every_schema_is_portable_json_schema_2020_12() {
    let app = spawn_app().await;
    let reply = app
        .post(
            &json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list" }),
            &[("mcp-protocol-version", "2025-11-25")],
        )
        .await;
    let tools = reply.json()["result"]["tools"]
        .as_array()
        .expect("tools")
        .clone();
    assert_eq!(tools.len(), 12);
    let found = all_problems(&tools);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_walk_finds_what_schemars_used_to_write() {
    let tool = json!({
        "name": "t",
        "inputSchema": {
            "type": "object",
            "properties": {
                "limit": { "type": "integer", "format": "uint16" },
                "start": { "type": ["integer", "string", "null"] },
                "pane": { "type": "string", "default": null },
                "next": { "$ref": "#/$defs/Missing" },
            }
        },
        "outputSchema": {
            "type": "object",
            "properties": { "price": { "type": ["string", "null"], "nullable": true } }
        }
    });
    let found = all_problems(&[tool]);
    for expected in [
        "t.inputSchema/properties/limit/format: non-standard format",
        "t.inputSchema/properties/start/type: a type array",
        "t.inputSchema/properties/pane/default: an input offering null",
        "t.inputSchema/properties/next/$ref: \"#/$defs/Missing\" does not resolve",
        "t.outputSchema/properties/price/type: a type array",
        "t.outputSchema/properties/price/nullable: not a JSON Schema 2020-12 keyword",
    ] {
        assert!(
            found.iter().any(|f| f.starts_with(expected)),
            "{expected} in {found:#?}"
        );
    }
}
