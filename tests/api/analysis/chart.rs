//! `binance_chart` end to end: an image block holding a PNG that decodes to
//! the asked size and is not blank, then the summary. Sizes and candle
//! counts are small because the renderer runs unoptimised in test builds.

use std::collections::HashSet;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::text_of;
use crate::helpers::spawn_app;

struct Picture {
    width: u32,
    height: u32,
    /// RGB(A) bytes, row by row.
    pixels: Vec<u8>,
    channels: usize,
}

impl Picture {
    fn pixel(&self, x: u32, y: u32) -> &[u8] {
        let at = (y as usize * self.width as usize + x as usize) * self.channels;
        &self.pixels[at..at + self.channels]
    }

    fn distinct_colours(&self) -> usize {
        self.pixels
            .chunks(self.channels)
            .collect::<HashSet<_>>()
            .len()
    }
}

/// Decodes the image block of a result, checking its type and MIME type.
fn picture(result: &Value) -> Picture {
    let image = &result["content"][0];
    assert_eq!(image["type"], "image", "{result}");
    assert_eq!(image["mimeType"], "image/png");
    let bytes = STANDARD
        .decode(image["data"].as_str().expect("base64 data"))
        .expect("valid base64");
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "PNG signature");
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .expect("PNG header");
    let mut pixels = vec![0; reader.output_buffer_size().expect("buffer size")];
    let frame = reader.next_frame(&mut pixels).expect("PNG decodes");
    pixels.truncate(frame.buffer_size());
    Picture {
        width: frame.width,
        height: frame.height,
        channels: frame.color_type.samples(),
        pixels,
    }
}

#[tokio::test]
async fn chart_is_a_png_of_the_asked_size_with_a_summary() {
    let app = spawn_app().await;
    let result = app
        .call_tool(
            "binance_chart",
            json!({
                "symbol": "BTCUSDT", "interval": "1h", "limit": 60,
                "overlays": ["sma:10", "bbands:20,2"], "pane": "rsi:14",
                "width": 640, "height": 400
            }),
        )
        .await;
    assert_eq!(result["isError"], false, "{result}");
    let png = picture(&result);
    assert_eq!((png.width, png.height), (640, 400));
    // Candles, bands, text and grid: far more than a blank or one-colour image.
    assert!(
        png.distinct_colours() > 50,
        "{} colours",
        png.distinct_colours()
    );

    let summary = &result["structuredContent"];
    assert_eq!(summary["symbol"], "BTCUSDT");
    assert_eq!(summary["candles"], 60);
    assert_eq!(summary["overlays"], json!(["sma:10", "bbands:20,2"]));
    assert_eq!(summary["pane"], "rsi:14");
    assert_eq!(summary["theme"], "dark");
    assert_eq!(summary["last_close"], "102429.56000000");
    assert!(summary["change_percent"].is_string(), "{summary}");
    // The image comes first, then the JSON mirror of the summary.
    assert_eq!(result["content"].as_array().map(Vec::len), Some(2));
    let mirrored: Value = serde_json::from_str(text_of(&result)).expect("JSON text");
    assert_eq!(&mirrored, summary);
}

#[tokio::test]
async fn light_theme_and_macd_pane() {
    let app = spawn_app().await;
    let draw = |theme: &'static str| {
        let app = &app;
        async move {
            app.call_tool(
                "binance_chart",
                json!({
                    "symbol": "ETHUSDT", "interval": "4h", "limit": 40, "overlays": [],
                    "pane": "macd", "theme": theme, "width": 480, "height": 320
                }),
            )
            .await
        }
    };
    let light = draw("light").await;
    let dark = draw("dark").await;
    assert_eq!(light["isError"], false, "{light}");
    assert_eq!(light["structuredContent"]["pane"], "macd:12,26,9");
    assert_eq!(light["structuredContent"]["overlays"], json!([]));
    let brightness = |p: &Picture| {
        p.pixel(1, 1)
            .iter()
            .take(3)
            .map(|&c| u32::from(c))
            .sum::<u32>()
    };
    let (light, dark) = (picture(&light), picture(&dark));
    assert!(brightness(&light) > 600, "light background");
    assert!(brightness(&dark) < 150, "dark background");
}

#[tokio::test]
async fn bad_chart_arguments_say_what_is_valid() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({ "symbol": "BTCUSDT", "overlays": ["rsi:14"] }),
            "use `pane` for rsi or macd",
        ),
        (
            json!({ "symbol": "BTCUSDT", "overlays": ["nope"] }),
            "Valid indicators",
        ),
        (
            json!({ "symbol": "BTCUSDT", "pane": "sma:5" }),
            "use rsi:N, macd",
        ),
        (
            json!({ "symbol": "BTCUSDT", "width": 100 }),
            "`width`: 100 is out of range: use 480 to 2400",
        ),
        (
            json!({ "symbol": "BTCUSDT", "limit": 2001 }),
            "use 1 to 2000",
        ),
        (
            json!({ "symbol": "BTCUSDT", "theme": "sepia" }),
            "`theme` must be one of dark, light; got the string \"sepia\"",
        ),
        (
            json!({ "symbol": "BTCUSDT", "overlays": ["sma:5", "sma:6", "sma:7", "sma:8", "sma:9", "sma:10", "sma:11"] }),
            "`overlays` must list at most 6 lines; got 7",
        ),
    ];
    for (arguments, needle) in cases {
        let result = app.call_tool("binance_chart", arguments.clone()).await;
        assert_eq!(result["isError"], true, "{arguments}: {result}");
        let text = text_of(&result);
        assert!(text.contains(needle), "{arguments}: {text}");
    }
}

/// Regenerates `docs/chart-example.png` from the tool over the fake's
/// BTCUSDT candles. Ignored: it writes into the repository and renders a
/// full-size chart, slow unoptimised. Run with
/// `cargo test --release --test api regenerate_the_sample_chart -- --ignored`.
#[tokio::test]
#[ignore]
async fn regenerate_the_sample_chart() {
    let app = spawn_app().await;
    let result = app
        .call_tool(
            "binance_chart",
            json!({
                "symbol": "BTCUSDT", "interval": "1h", "limit": 200,
                "overlays": ["sma:20", "ema:50", "bbands:20,2"], "pane": "rsi:14"
            }),
        )
        .await;
    assert_eq!(result["isError"], false, "{result}");
    let data = result["content"][0]["data"].as_str().expect("image");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/chart-example.png");
    std::fs::write(path, STANDARD.decode(data).expect("base64")).expect("write sample");
}
