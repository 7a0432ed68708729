//! Decoding a tool's `arguments`, with failures told in the caller's words.
//!
//! serde's own messages speak Rust (`expected i64`, `expected struct
//! CalculateArgs`) and serde_json adds a line and column of JSON the caller
//! never wrote. Here a failure is rewritten from the tool's `inputSchema`:
//! the argument as the schema spells it, what it accepts (type, range,
//! values, default) and what was received. Messages our own argument types
//! write (a limit out of range, a time that is not a time) are kept, minus
//! the position. A name that is not an argument is matched against the
//! ones that are (`start_time` → `startTime`).

use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_path_to_error::Segment;

use super::jsonrpc::without_position;
use crate::assets::edit_distance;

/// Longest received text quoted back.
const MAX_ECHO_CHARS: usize = 40;

/// Decodes `json` (the raw `arguments`; absent or `null` means none) into
/// `T`, or says what is wrong in terms of `schema`.
pub fn decode<T: DeserializeOwned>(json: Option<&str>, schema: &Value) -> Result<T, String> {
    let json = match json.map(str::trim) {
        None | Some("null") => "{}",
        Some(text) => text,
    };
    // serde would take a list as the fields in order; MCP sends names.
    if !json.starts_with('{') {
        let received: Value = serde_json::from_str(json).unwrap_or(Value::Null);
        let problem = Problem {
            schema,
            received: &received,
            path: &[],
        };
        return Err(problem.not_an_object());
    }
    let mut de = serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(&mut de).map_err(|error| {
        let path: Vec<Segment> = error.path().iter().cloned().collect();
        let message = without_position(error.inner());
        let received: Value = serde_json::from_str(json).unwrap_or(Value::Null);
        Problem {
            schema,
            received: &received,
            path: &path,
        }
        .explain(&message)
    })
}

struct Problem<'a> {
    schema: &'a Value,
    received: &'a Value,
    path: &'a [Segment],
}

impl Problem<'_> {
    fn explain(&self, message: &str) -> String {
        if let Some(field) = between(message, "missing field `", "`") {
            let mut path = self.path.to_vec();
            path.push(Segment::Map {
                key: field.to_owned(),
            });
            let expected = self.schema_at(&path).map(|s| describe(s, self.schema));
            return match expected {
                Some(expected) => format!("`{}` is required: {expected}.", spell(&path)),
                None => format!("`{}` is required.", spell(&path)),
            };
        }
        if let Some(field) = between(message, "unknown field `", "`") {
            return self.unknown(field);
        }
        if let Some(field) = between(message, "duplicate field `", "`") {
            return format!("`{field}` is given twice: give it once.");
        }
        let generic = [
            "invalid type: ",
            "invalid value: ",
            "invalid length ",
            "unknown variant ",
        ]
        .iter()
        .any(|p| message.starts_with(p));
        let at = spell(self.path);
        match self.schema_at(self.path) {
            Some(schema) if generic => format!(
                "`{at}` must be {}; got {}.",
                describe(schema, self.schema),
                received(self.value_at(self.path))
            ),
            _ if at.is_empty() => format!("{message}."),
            _ => format!("`{at}`: {}", sentence(message)),
        }
    }

    fn not_an_object(&self) -> String {
        let properties = self.schema["properties"].as_object();
        let required: Vec<&str> = self.schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let example = required
            .first()
            .copied()
            .or_else(|| properties.and_then(|p| p.keys().next().map(String::as_str)));
        let like = match example {
            Some(name) => format!(", like {{\"{name}\": …}}"),
            None => String::new(),
        };
        let mut names: Vec<String> = required.iter().map(|r| format!("{r} (required)")).collect();
        names.extend(
            properties
                .into_iter()
                .flat_map(|p| p.keys())
                .filter(|k| !required.contains(&k.as_str()))
                .cloned(),
        );
        let takes = match names.is_empty() {
            true => "It takes no arguments: send {}.".to_owned(),
            false => format!("Its arguments: {}.", names.join(", ")),
        };
        format!(
            "arguments must be an object of named arguments{like}, not {}. {takes}",
            received(self.received)
        )
    }

    fn unknown(&self, field: &str) -> String {
        let parent = &self.path[..self.path.len().saturating_sub(1)];
        let known: Vec<&str> = self
            .schema_at(parent)
            .and_then(|s| s["properties"].as_object())
            .into_iter()
            .flat_map(|p| p.keys().map(String::as_str))
            .collect();
        let whose = match parent.is_empty() {
            true => "an argument of this tool".to_owned(),
            false => format!("a field of `{}`", spell(parent)),
        };
        let hint = match closest(field, &known) {
            Some(name) => format!("; did you mean `{name}`?"),
            None => ".".to_owned(),
        };
        format!(
            "`{}` is not {whose}{hint} The arguments are: {}.",
            echo(field),
            known.join(", ")
        )
    }

    /// The schema of the value at `path`, following `$ref`s.
    fn schema_at(&self, path: &[Segment]) -> Option<&Value> {
        let mut schema = resolve(self.schema, self.schema);
        for segment in path {
            schema = match segment {
                Segment::Map { key } => schema["properties"].get(key)?,
                Segment::Seq { .. } => schema.get("items")?,
                Segment::Enum { .. } | Segment::Unknown => return None,
            };
            schema = resolve(schema, self.schema);
        }
        Some(schema)
    }

    fn value_at(&self, path: &[Segment]) -> &Value {
        let mut value = self.received;
        for segment in path {
            value = match segment {
                Segment::Map { key } => &value[key.as_str()],
                Segment::Seq { index } => &value[*index],
                Segment::Enum { .. } | Segment::Unknown => &Value::Null,
            };
        }
        value
    }
}

/// `a.b[2]`, the way the caller wrote it.
fn spell(path: &[Segment]) -> String {
    let mut out = String::new();
    for segment in path {
        match segment {
            Segment::Map { key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(&echo(key));
            }
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Enum { .. } | Segment::Unknown => {}
        }
    }
    out
}

fn resolve<'a>(schema: &'a Value, root: &'a Value) -> &'a Value {
    schema["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix('#'))
        .and_then(|pointer| root.pointer(pointer))
        .unwrap_or(schema)
}

/// What a schema accepts, in words: "an integer from 1 to 1000 (default
/// 100)", "one of dark, light", "a list, each a string".
pub fn describe(schema: &Value, root: &Value) -> String {
    let schema = resolve(schema, root);
    let default = match &schema["default"] {
        Value::Null => String::new(),
        Value::String(text) => format!(" (default {text})"),
        other => format!(" (default {other})"),
    };
    if let Some(values) = schema["enum"].as_array() {
        let names: Vec<String> = values.iter().map(plain).collect();
        return format!("one of {}{default}", names.join(", "));
    }
    if let Some(branches) = schema["anyOf"].as_array() {
        let forms: Vec<String> = branches
            .iter()
            .map(|b| match b["description"].as_str() {
                Some(text) => text.to_owned(),
                None => describe(b, root),
            })
            .collect();
        return format!("{}{default}", forms.join(" or "));
    }
    let bounds = |noun: &str| match (schema["minimum"].as_f64(), schema["maximum"].as_f64()) {
        (Some(_), Some(_)) => format!("{noun} from {} to {}", schema["minimum"], schema["maximum"]),
        (Some(_), None) => format!("{noun} of at least {}", schema["minimum"]),
        (None, Some(_)) => format!("{noun} of at most {}", schema["maximum"]),
        (None, None) => noun.to_owned(),
    };
    let what = match schema["type"].as_str() {
        Some("integer") => bounds("an integer"),
        Some("number") => bounds("a number"),
        Some("boolean") => "true or false".to_owned(),
        Some("string") => "a string".to_owned(),
        Some("object") => "an object".to_owned(),
        Some("array") => {
            let count = match (schema["minItems"].as_u64(), schema["maxItems"].as_u64()) {
                (Some(min), Some(max)) => format!(" of {min} to {max} items"),
                (None, Some(max)) => format!(" of at most {max} items"),
                _ => String::new(),
            };
            format!("a list{count}, each {}", describe(&schema["items"], root))
        }
        _ => "a value of another type".to_owned(),
    };
    format!("{what}{default}")
}

/// A received value, named for a message: `the string "10"`, `the number
/// 5`, `a list of 3 items`.
pub fn received(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => format!("the number {n}"),
        Value::String(text) => format!("the string {}", quote(text)),
        Value::Array(items) if items.len() == 1 => "a list of 1 item".to_owned(),
        Value::Array(items) => format!("a list of {} items", items.len()),
        Value::Object(_) => "an object".to_owned(),
    }
}

/// `"text"`, cut to [`MAX_ECHO_CHARS`] and JSON-escaped so nothing it
/// holds can break the message.
pub fn quote(text: &str) -> String {
    let cut: String = text.chars().take(MAX_ECHO_CHARS).collect();
    let more = if text.chars().count() > MAX_ECHO_CHARS {
        "…"
    } else {
        ""
    };
    format!("{}{more}", Value::String(cut))
}

fn echo(text: &str) -> String {
    text.chars()
        .take(MAX_ECHO_CHARS)
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect()
}

fn plain(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = text.strip_prefix(start)?;
    rest.split_once(end).map(|(inside, _)| inside)
}

/// A message as a sentence: ends with a full stop.
fn sentence(message: &str) -> String {
    match message.ends_with(['.', '?', '!']) {
        true => message.to_owned(),
        false => format!("{message}."),
    }
}

/// The known name closest to `unknown` once case, `_` and `-` are set
/// aside, within two edits.
fn closest<'a>(unknown: &str, known: &[&'a str]) -> Option<&'a str> {
    let fold = |s: &str| -> String {
        s.chars()
            .filter(|c| !matches!(c, '_' | '-' | ' '))
            .flat_map(char::to_lowercase)
            .collect()
    };
    let wanted = fold(unknown);
    if wanted.chars().count() > 2 * MAX_ECHO_CHARS {
        return None;
    }
    known
        .iter()
        .map(|k| (edit_distance(&wanted, &fold(k)), *k))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Args {
        symbol: String,
        #[serde(default)]
        limit: Option<u16>,
        #[serde(default)]
        start_time: Option<i64>,
        #[serde(default)]
        tags: Vec<String>,
        #[serde(default)]
        theme: Option<Theme>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Theme {
        Dark,
        Light,
    }

    fn schema() -> Value {
        json!({
            "type": "object",
            "required": ["symbol"],
            "properties": {
                "symbol": { "type": "string" },
                "limit": { "type": "integer", "minimum": 1, "maximum": 1000, "default": 100 },
                "startTime": { "anyOf": [
                    { "type": "integer", "description": "Unix milliseconds" },
                    { "type": "string", "description": "an ISO-8601 time" },
                ] },
                "tags": { "type": "array", "items": { "type": "string" } },
                "theme": { "$ref": "#/$defs/Theme" },
            },
            "$defs": { "Theme": { "type": "string", "enum": ["dark", "light"], "default": "dark" } },
        })
    }

    fn problem(json: &str) -> String {
        decode::<Args>(Some(json), &schema()).expect_err("refused")
    }

    #[test]
    fn failures_speak_the_schema() {
        for (json, expected) in [
            (
                r#""BTCUSDT""#,
                r#"arguments must be an object of named arguments, like {"symbol": …}, not the string "BTCUSDT". Its arguments: symbol (required), limit, startTime, tags, theme."#,
            ),
            (
                "[1]",
                "arguments must be an object of named arguments, like {\"symbol\": …}, not a list of 1 item. Its arguments: symbol (required), limit, startTime, tags, theme.",
            ),
            ("{}", "`symbol` is required: a string."),
            (
                r#"{"symbol":"X","limit":"10"}"#,
                r#"`limit` must be an integer from 1 to 1000 (default 100); got the string "10"."#,
            ),
            (
                r#"{"symbol":"X","limit":-1}"#,
                "`limit` must be an integer from 1 to 1000 (default 100); got the number -1.",
            ),
            (
                r#"{"symbol":"X","startTime":true}"#,
                "`startTime` must be Unix milliseconds or an ISO-8601 time; got true.",
            ),
            (
                r#"{"symbol":"X","tags":"a"}"#,
                r#"`tags` must be a list, each a string; got the string "a"."#,
            ),
            (
                r#"{"symbol":"X","tags":["a",2]}"#,
                "`tags[1]` must be a string; got the number 2.",
            ),
            (
                r#"{"symbol":"X","theme":"blue"}"#,
                r#"`theme` must be one of dark, light (default dark); got the string "blue"."#,
            ),
            (
                r#"{"symbol":"X","start_time":1}"#,
                "`start_time` is not an argument of this tool; did you mean `startTime`? The arguments are: limit, startTime, symbol, tags, theme.",
            ),
            (
                r#"{"symbol":"X","colour":1}"#,
                "`colour` is not an argument of this tool. The arguments are: limit, startTime, symbol, tags, theme.",
            ),
            (
                r#"{"symbol":"X","symbol":"Y"}"#,
                "`symbol` is given twice: give it once.",
            ),
        ] {
            let text = problem(json);
            assert_eq!(text, expected, "{json}");
            for rust in [
                "i64", "u16", "struct", "line ", "column", "serde", "sequence",
            ] {
                assert!(!text.contains(rust), "{json}: {text}");
            }
        }
    }

    #[test]
    fn absent_and_null_arguments_are_none() {
        assert_eq!(
            decode::<Args>(None, &schema()).expect_err("symbol missing"),
            "`symbol` is required: a string."
        );
        assert_eq!(
            decode::<Args>(Some("null"), &schema()).expect_err("symbol missing"),
            "`symbol` is required: a string."
        );
    }

    #[test]
    fn names_are_matched_within_two_edits() {
        let known = ["symbol", "startTime", "endTime"];
        assert_eq!(closest("start_time", &known), Some("startTime"));
        assert_eq!(closest("symbols", &known), Some("symbol"));
        assert_eq!(closest("END-TIME", &known), Some("endTime"));
        assert_eq!(closest("interval", &known), None);
    }
}
