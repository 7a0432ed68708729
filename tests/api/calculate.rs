//! The `calculate` tool over MCP: exact answers, typed argument errors,
//! adversarial input.

use serde_json::{Value, json};

use crate::helpers::spawn_app;

fn text_of(result: &Value) -> &str {
    result["content"][0]["text"].as_str().expect("text content")
}

#[tokio::test]
async fn decimals_read_as_a_person_expects() {
    let app = spawn_app().await;
    for (expression, expected) in [
        ("0.1+0.2", "0.3"),
        ("(97250.5 - 94010) / 94010 * 100", "3.44697372619934"),
        ("2^64", "18446744073709551616"),
        ("max(1, 2.5, -3) * 2", "5"),
        ("round(pi, 4)", "3.1416"),
    ] {
        let result = app
            .call_tool("calculate", json!({ "expression": expression }))
            .await;
        assert_eq!(result["isError"], false, "{expression}: {result}");
        let structured = &result["structuredContent"];
        assert_eq!(structured["expression"], expression);
        assert_eq!(structured["result"], expected, "{expression}");
        // The text block mirrors the structured content exactly.
        let mirrored: Value = serde_json::from_str(text_of(&result)).expect("JSON text");
        assert_eq!(&mirrored, structured);
        assert_eq!(result["content"].as_array().map(Vec::len), Some(1));
    }
}

#[tokio::test]
async fn bad_arguments_name_the_field_and_the_expected_value() {
    let app = spawn_app().await;
    let cases = [
        (json!({}), "`expression` is required: a string"),
        (
            json!({ "expression": 5 }),
            "`expression` must be a string; got the number 5",
        ),
        (
            json!({ "expression": "1", "precision": 3 }),
            "`precision` is not an argument of this tool",
        ),
        (
            json!("1+1"),
            "arguments must be an object of named arguments, like {\"expression\": …}",
        ),
    ];
    for (arguments, needle) in cases {
        let result = app.call_tool("calculate", arguments.clone()).await;
        assert_eq!(result["isError"], true, "{arguments}");
        let text = text_of(&result);
        assert!(text.contains(needle), "{arguments}: {text}");
        assert!(
            text.starts_with("Invalid arguments for calculate"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn evaluation_errors_are_tool_errors() {
    let app = spawn_app().await;
    let deep = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
    let huge = "1+".repeat(500_000) + "1";
    for (expression, needle) in [
        ("1 +", "position"),
        ("9^9^9^9", "not a finite number"),
        ("1/0", "division by zero"),
        ("sin(1)", "unknown function 'sin'"),
        (deep.as_str(), "characters long"),
        (huge.as_str(), "characters long"),
    ] {
        let result = app
            .call_tool("calculate", json!({ "expression": expression }))
            .await;
        assert_eq!(result["isError"], true);
        let text = text_of(&result);
        assert!(
            text.contains(needle),
            "{}: {text}",
            &expression[..expression.len().min(20)]
        );
        assert!(result.get("structuredContent").is_none());
    }
    // The server is still fine afterwards.
    let ok = app
        .call_tool("calculate", json!({ "expression": "1+1" }))
        .await;
    assert_eq!(ok["structuredContent"]["result"], "2");
}
