//! Every tool answers whatever arguments a client sends: well-typed (built
//! from the tool's own `inputSchema`), wrong-typed, huge, multibyte or
//! nested past what the parser takes. Each call goes through the real
//! endpoint to the fake Binance and must get a JSON-RPC answer, never a
//! dropped connection, and never the framework's "failed unexpectedly"
//! result, which is what a panic or an internal error becomes.

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::strategy::Union;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reqwest::StatusCode;
use serde_json::{Map, Value, json};

use crate::helpers::{TestApp, spawn_app};

/// Cases per tool: enough to reach every field with several shapes while
/// the whole test stays within a few seconds.
const CASES_PER_TOOL: u32 = 96;

/// Strings a model plausibly sends, valid or nearly so, so that calls get
/// past decoding and into the tools (and out to the fake Binance).
const SAMPLES: &[&str] = &[
    "BTCUSDT",
    "ETHUSDT",
    "btc-usdt",
    "BTC/USDT",
    "NOPEUSDT",
    "1h",
    "1M",
    "15m",
    "1d",
    "2025-01-31",
    "2025-01-31T12:00:00Z",
    "2025-01-31T12:00:00+05:30",
    "2025-01-31+aéb",
    "1735689600000",
    "-1:00",
    "05:45",
    "+14:00",
    "rsi:14",
    "macd:12,26,9",
    "bbands:20,2",
    "sma:200",
    "ema:50",
    "none",
    "bitcoin",
    "sol perp",
    "spot:BTCUSDT",
    "perp:ETHUSDT",
    "1+1",
    "(2^10)/3",
    "sqrt(2)",
    "dark",
    "TRADING",
];

fn text() -> BoxedStrategy<String> {
    prop_oneof![
        6 => proptest::sample::select(SAMPLES).prop_map(str::to_owned),
        2 => (proptest::sample::select(SAMPLES), "\\PC{1,3}").prop_map(|(a, b)| a.to_owned() + &b),
        2 => "\\PC{0,24}",
        1 => "[a-z0-9:+., éü日本🚀-]{0,12}",
        1 => (1usize..40_000).prop_map(|n| "é".repeat(n)),
    ]
    .boxed()
}

fn integer(schema: &Value) -> BoxedStrategy<Value> {
    let min = schema["minimum"].as_i64().unwrap_or(0);
    let max = schema["maximum"]
        .as_i64()
        .unwrap_or(min.saturating_add(5_000));
    prop_oneof![
        4 => (min..=max).prop_map(Value::from),
        1 => proptest::sample::select(vec![-1, 0, i64::from(u32::MAX), i64::MAX, i64::MIN])
            .prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(Value::Number)),
    ]
    .boxed()
}

fn any_json() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            btree_map("\\PC{0,8}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
    .boxed()
}

/// Arrays nested `depth` deep; past serde_json's limit of 128 the body
/// itself no longer parses.
fn nested() -> BoxedStrategy<Value> {
    (1usize..200)
        .prop_map(|depth| (0..depth).fold(json!(1), |inner, _| json!([inner])))
        .boxed()
}

/// Values for `schema`: of its own type(s) mostly, any JSON sometimes.
fn for_schema(schema: &Value, defs: &Value) -> BoxedStrategy<Value> {
    let schema = match schema["$ref"].as_str() {
        Some(reference) => &defs[reference.trim_start_matches("#/$defs/")],
        None => schema,
    };
    let mut options: Vec<BoxedStrategy<Value>> = vec![any_json()];
    for branch in schema["anyOf"].as_array().into_iter().flatten() {
        options.push(for_schema(branch, defs));
    }
    if let Some(values) = schema["enum"].as_array() {
        options.push(proptest::sample::select(values.clone()).boxed());
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    for kind in types {
        options.push(match kind {
            "string" => text().prop_map(Value::String).boxed(),
            "integer" | "number" => integer(schema),
            "boolean" => any::<bool>().prop_map(Value::Bool).boxed(),
            "null" => Just(Value::Null).boxed(),
            "array" => prop_oneof![
                4 => vec(for_schema(&schema["items"], defs), 0..8),
                1 => vec(for_schema(&schema["items"], defs), 50..200),
            ]
            .prop_map(Value::Array)
            .boxed(),
            _ => object_for(schema, defs),
        });
    }
    Union::new(options).boxed()
}

/// An object with some of `schema`'s properties, and now and then one it
/// does not know.
fn object_for(schema: &Value, defs: &Value) -> BoxedStrategy<Value> {
    let properties: Vec<BoxedStrategy<Option<(String, Value)>>> = schema["properties"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, property)| {
            let name = name.clone();
            proptest::option::weighted(0.7, for_schema(property, defs))
                .prop_map(move |value| value.map(|v| (name.clone(), v)))
                .boxed()
        })
        .collect();
    let stranger = proptest::option::weighted(0.1, ("\\PC{1,8}", any_json()));
    (properties, stranger)
        .prop_map(|(fields, stranger)| {
            let object: Map<String, Value> = fields.into_iter().flatten().chain(stranger).collect();
            Value::Object(object)
        })
        .boxed()
}

fn arguments_for(input_schema: &Value) -> BoxedStrategy<Value> {
    let defs = input_schema["$defs"].clone();
    prop_oneof![
        8 => object_for(input_schema, &defs),
        1 => any_json(),
        1 => nested(),
    ]
    .boxed()
}

async fn call(app: &TestApp, tool: &str, arguments: &Value) -> Result<(), TestCaseError> {
    let body = json!({ "jsonrpc": "2.0", "id": 7, "method": "tools/call",
        "params": { "name": tool, "arguments": arguments } });
    let reply = app
        .post(&body, &[("mcp-protocol-version", "2025-11-25")])
        .await;
    let answer: Value = serde_json::from_str(&reply.text)
        .map_err(|e| TestCaseError::fail(format!("{tool}: not JSON ({e}): {}", reply.text)))?;
    if let Some(error) = answer.get("error") {
        // Only a body past the size limit (arrays of long strings reach
        // it) or nested past the parser's limit is refused as a whole.
        let refusal = (reply.status, &error["code"]);
        prop_assert!(
            refusal == (StatusCode::PAYLOAD_TOO_LARGE, &json!(-32600))
                || refusal == (StatusCode::BAD_REQUEST, &json!(-32700)),
            "{}: {} {}",
            tool,
            reply.status,
            error
        );
        return Ok(());
    }
    prop_assert_eq!(reply.status, StatusCode::OK);
    prop_assert_eq!(&answer["id"], &json!(7));
    let result = &answer["result"];
    prop_assert!(result["isError"].is_boolean(), "{}: {}", tool, result);
    let text = result["content"][0]["text"].as_str().unwrap_or_default();
    prop_assert!(
        !text.contains("failed unexpectedly on the server"),
        "{} with {}: {}",
        tool,
        arguments,
        text
    );
    Ok(())
}

/// The panic issue 8 found: a time zone split inside a multibyte character.
#[tokio::test]
async fn a_time_zone_cut_inside_a_character_is_an_invalid_argument() {
    let app = spawn_app().await;
    for field in ["startTime", "endTime"] {
        let result = app
            .call_tool(
                "binance_klines",
                json!({ "symbol": "BTCUSDT", field: "2025-01-31+aéb" }),
            )
            .await;
        assert_eq!(result["isError"], true, "{result}");
        let text = result["content"][0]["text"].as_str().unwrap_or_default();
        assert!(
            text.starts_with("Invalid arguments for binance_klines"),
            "{text}"
        );
    }
}

#[test]
fn every_tool_answers_any_arguments() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let app = runtime.block_on(spawn_app());
    let list = runtime.block_on(app.post(
        &json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list" }),
        &[("mcp-protocol-version", "2025-11-25")],
    ));
    let tools = list.json()["result"]["tools"].clone();
    let tools = tools.as_array().expect("tools");
    assert!(tools.len() >= 11, "every registered tool is listed");
    for tool in tools {
        let name = tool["name"].as_str().expect("name");
        let mut runner = TestRunner::new(Config {
            cases: CASES_PER_TOOL,
            failure_persistence: None,
            ..Config::default()
        });
        let outcome = runner.run(&arguments_for(&tool["inputSchema"]), |arguments| {
            runtime.block_on(call(&app, name, &arguments))
        });
        if let Err(failure) = outcome {
            panic!("{name}: {failure}");
        }
    }
}

#[tokio::test]
async fn a_multibyte_time_offset_is_a_clear_error_not_a_dropped_connection() {
    let app = spawn_app().await;
    for start in ["2025-01-31+aéb", "2025-01-31T00:00+é", "２０２５-01-31"] {
        let result = app
            .call_tool(
                "binance_klines",
                json!({ "symbol": "BTCUSDT", "startTime": start }),
            )
            .await;
        assert_eq!(result["isError"], true, "{start}: {result}");
        let text = result["content"][0]["text"].as_str().unwrap_or_default();
        assert!(text.contains("startTime"), "{start}: {text}");
        assert!(text.contains("is not a time"), "{start}: {text}");
    }
    let reply = app.http.get(app.url("/healthz")).send().await;
    assert!(reply.is_ok_and(|r| r.status().is_success()));
}
