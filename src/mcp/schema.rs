//! Portable JSON Schemas for `inputSchema` and `outputSchema`.
//!
//! schemars writes valid JSON Schema 2020-12 with two habits clients trip
//! over: `format` values of its own (`uint16`, `int64`, `double`), which
//! TypeScript clients warn about on every call, and `type` arrays
//! (`["string", "null"]`), which clients that map schemas onto a
//! single-`type` dialect (Gemini's function declarations, for one) reject.
//! [`portable`] rewrites a generated schema once, when the descriptor is
//! built:
//!
//! - a non-standard `format` goes; what it said about integers stays as
//!   `minimum`/`maximum` where a client can check it;
//! - in an input, optional means absent: `null` leaves every `type`, `enum`,
//!   `anyOf` and `default`, so a model is never invited to send it;
//! - a `type` array left over becomes `anyOf` branches of one `type` each,
//!   every branch taking the keywords that apply to its type.

use serde_json::{Map, Value};

/// Whether a schema describes what a client sends or what it receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Input,
    Output,
}

/// The `format` values JSON Schema 2020-12 defines.
pub const STANDARD_FORMATS: &[&str] = &[
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

/// Keywords that hold one subschema, an array of them, or a map of them.
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

/// Keywords that constrain only instances of one type, and so go with that
/// type's branch when a `type` array is split.
fn applies_to(keyword: &str) -> Option<&'static [&'static str]> {
    const STRING: &[&str] = &["string"];
    const NUMBER: &[&str] = &["integer", "number"];
    const ARRAY: &[&str] = &["array"];
    const OBJECT: &[&str] = &["object"];
    Some(match keyword {
        "minLength" | "maxLength" | "pattern" | "format" | "contentEncoding"
        | "contentMediaType" | "contentSchema" => STRING,
        "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" | "multipleOf" => NUMBER,
        "items" | "prefixItems" | "minItems" | "maxItems" | "uniqueItems" | "contains"
        | "minContains" | "maxContains" | "unevaluatedItems" => ARRAY,
        "properties"
        | "required"
        | "additionalProperties"
        | "patternProperties"
        | "minProperties"
        | "maxProperties"
        | "propertyNames"
        | "dependentRequired"
        | "dependentSchemas"
        | "unevaluatedProperties" => OBJECT,
        _ => return None,
    })
}

/// Rewrites a generated schema (see the module doc). The root's `title`,
/// the name of the Rust type it was generated from, goes too.
pub fn portable(mut schema: Value, direction: Direction) -> Value {
    visit(&mut schema, direction);
    if let Some(root) = schema.as_object_mut() {
        root.remove("title");
    }
    schema
}

fn visit(schema: &mut Value, direction: Direction) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    for (keyword, sub) in object.iter_mut() {
        let keyword = keyword.as_str();
        if ONE.contains(&keyword) {
            visit(sub, direction);
        } else if MANY.contains(&keyword) {
            sub.as_array_mut()
                .into_iter()
                .flatten()
                .for_each(|s| visit(s, direction));
        } else if MAP.contains(&keyword) {
            sub.as_object_mut()
                .into_iter()
                .flat_map(|m| m.values_mut())
                .for_each(|s| visit(s, direction));
        }
    }
    standard_format(object);
    if direction == Direction::Input {
        drop_null(object);
    }
    split_types(object);
}

/// Replaces a non-standard `format` with the bounds it implied.
fn standard_format(object: &mut Map<String, Value>) {
    let Some(format) = object.get("format").and_then(Value::as_str) else {
        return;
    };
    if STANDARD_FORMATS.contains(&format) {
        return;
    }
    let bounds: Option<(i64, i64)> = match format {
        "int8" => Some((i8::MIN.into(), i8::MAX.into())),
        "int16" => Some((i16::MIN.into(), i16::MAX.into())),
        "int32" => Some((i32::MIN.into(), i32::MAX.into())),
        "uint8" => Some((0, u8::MAX.into())),
        "uint16" => Some((0, u16::MAX.into())),
        "uint32" => Some((0, u32::MAX.into())),
        // Wider bounds are past what JSON numbers carry exactly; unsigned
        // still means at least zero.
        "uint" | "uint64" | "uint128" => Some((0, i64::MAX)),
        _ => None,
    };
    object.remove("format");
    if let Some((min, max)) = bounds {
        object.entry("minimum").or_insert(min.into());
        if max < i64::MAX {
            object.entry("maximum").or_insert(max.into());
        }
    }
}

/// Takes `null` out of an input schema: an optional argument is one left
/// out, never one sent as null.
fn drop_null(object: &mut Map<String, Value>) {
    if let Some(Value::Array(types)) = object.get_mut("type") {
        types.retain(|t| t != "null");
        if let [single] = types.as_slice() {
            let single = single.clone();
            object.insert("type".into(), single);
        }
    }
    if let Some(Value::Array(values)) = object.get_mut("enum") {
        values.retain(|v| !v.is_null());
    }
    if object.get("default").is_some_and(Value::is_null) {
        object.remove("default");
    }
    let Some(Value::Array(branches)) = object.get_mut("anyOf") else {
        return;
    };
    branches.retain(|b| b.get("type").is_none_or(|t| t != "null"));
    if branches.len() == 1
        && let Some(Value::Object(only)) = branches.pop()
    {
        object.remove("anyOf");
        for (keyword, value) in only {
            object.entry(keyword).or_insert(value);
        }
    }
}

/// `{"type": ["string", "null"], "pattern": p}` becomes
/// `{"anyOf": [{"type": "string", "pattern": p}, {"type": "null"}]}`.
fn split_types(object: &mut Map<String, Value>) {
    let Some(Value::Array(types)) = object.get("type") else {
        return;
    };
    if object.contains_key("anyOf") {
        return;
    }
    let types: Vec<String> = types
        .iter()
        .filter_map(|t| t.as_str().map(str::to_owned))
        .collect();
    object.remove("type");
    let keywords: Vec<String> = object
        .keys()
        .filter(|k| applies_to(k).is_some())
        .cloned()
        .collect();
    let specific: Vec<(String, Value)> = keywords
        .into_iter()
        .filter_map(|k| object.remove(&k).map(|v| (k, v)))
        .collect();
    let values = object.remove("enum");
    let branches = types
        .iter()
        .map(|kind| {
            let mut branch = Map::new();
            branch.insert("type".into(), kind.as_str().into());
            for (keyword, value) in &specific {
                if applies_to(keyword).is_some_and(|kinds| kinds.contains(&kind.as_str())) {
                    branch.insert(keyword.clone(), value.clone());
                }
            }
            if let Some(Value::Array(values)) = &values {
                let own: Vec<Value> = values
                    .iter()
                    .filter(|v| is_of_type(v, kind))
                    .cloned()
                    .collect();
                branch.insert("enum".into(), own.into());
            }
            Value::Object(branch)
        })
        .collect();
    object.insert("anyOf".into(), Value::Array(branches));
}

fn is_of_type(value: &Value, kind: &str) -> bool {
    match kind {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn formats_become_bounds() {
        let schema = json!({
            "type": "object",
            "title": "KlinesArgs",
            "properties": {
                "a": { "type": "integer", "format": "uint16", "minimum": 0 },
                "b": { "type": "integer", "format": "int64" },
                "c": { "type": "integer", "format": "uint64", "minimum": 0 },
                "d": { "type": "number", "format": "double" },
                "e": { "type": "string", "format": "date-time" },
                "f": { "type": "integer", "format": "uint32", "minimum": 1, "maximum": 10 },
            }
        });
        assert_eq!(
            portable(schema, Direction::Output),
            json!({
                "type": "object",
                "properties": {
                    "a": { "type": "integer", "minimum": 0, "maximum": 65535 },
                    "b": { "type": "integer" },
                    "c": { "type": "integer", "minimum": 0 },
                    "d": { "type": "number" },
                    "e": { "type": "string", "format": "date-time" },
                    "f": { "type": "integer", "minimum": 1, "maximum": 10 },
                }
            })
        );
    }

    #[test]
    fn inputs_never_offer_null() {
        let schema = json!({
            "type": "object",
            "properties": {
                "symbol": { "type": ["string", "null"], "maxLength": 40 },
                "time": { "type": ["integer", "string", "null"], "description": "When." },
                "side": { "type": ["string", "null"], "enum": ["buy", "sell", null] },
                "pane": { "type": ["string", "null"], "default": null },
                "page": { "anyOf": [{ "$ref": "#/$defs/Page" }, { "type": "null" }], "description": "Next." },
            },
            "$defs": { "Page": { "type": "object" } }
        });
        assert_eq!(
            portable(schema, Direction::Input),
            json!({
                "type": "object",
                "properties": {
                    "symbol": { "type": "string", "maxLength": 40 },
                    "time": { "anyOf": [{ "type": "integer" }, { "type": "string" }], "description": "When." },
                    "side": { "type": "string", "enum": ["buy", "sell"] },
                    "pane": { "type": "string" },
                    "page": { "$ref": "#/$defs/Page", "description": "Next." },
                },
                "$defs": { "Page": { "type": "object" } }
            })
        );
    }

    #[test]
    fn outputs_split_type_arrays_into_branches() {
        let schema = json!({
            "type": "object",
            "properties": {
                "price": { "type": ["string", "null"], "pattern": "^\\d+$", "description": "Price." },
                "points": { "type": "array", "items": { "type": ["number", "null"], "format": "double" } },
            }
        });
        assert_eq!(
            portable(schema, Direction::Output),
            json!({
                "type": "object",
                "properties": {
                    "price": {
                        "description": "Price.",
                        "anyOf": [{ "type": "string", "pattern": "^\\d+$" }, { "type": "null" }],
                    },
                    "points": { "type": "array", "items": { "anyOf": [{ "type": "number" }, { "type": "null" }] } },
                }
            })
        );
    }
}
