//! MCP Apps (extension `io.modelcontextprotocol/ui`, stable revision
//! 2026-01-26): the interactive candlestick chart ChatGPT and Claude render
//! beside a `binance_klines` or `technical_analysis` answer.
//!
//! - The view is one HTML document, [`CHART_URI`], put together at compile
//!   time from `assets/chart-app/` and the vendored Lightweight Charts. It
//!   loads nothing (no CDN, no fetch), so it runs under the hosts' default
//!   CSP, which blocks every network request, and it needs no `unsafe-eval`.
//!   Hosts may cache a view by URI, hence the version in it: a change old
//!   hosts must not keep showing gets a new URI.
//! - Tools opt in with a [`ToolUi`] (`Tool::UI`), which becomes their
//!   descriptor's `_meta`. Hosts without the extension ignore it and get the
//!   same text (and PNG) answers as before.
//! - The view draws from `structuredContent`, and for `technical_analysis`
//!   from the per-candle series in the result's `_meta` ([`chart_data`]),
//!   which hosts give the view but not the model.
//! - It calls our tools back through the host (`tools/call`) to switch the
//!   interval, add an indicator or load older candles, so every request
//!   still goes through our auth, cache and rate limits.

pub mod chart_data;

use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde_json::{Value, json};

use crate::mcp::catalog::{
    CatalogBuilder, LIST_TTL_MS, Resource, ResourceDescriptor, ResourceRead,
};
use crate::mcp::content::{ResourceBody, ResourceContents};
use crate::mcp::error::ReadError;
use crate::mcp::ui::{MIME_TYPE, ToolUi};
use crate::urls::AppDomain;

/// The chart view.
pub const CHART_URI: &str = "ui://crypto-mcp/chart-v1.html";

/// A tool whose results the chart view draws, with the status lines shown
/// while it runs and after.
pub const fn chart_ui(invoking: &'static str, invoked: &'static str) -> ToolUi {
    ToolUi {
        resource_uri: CHART_URI,
        invoking,
        invoked,
    }
}

/// The chart view's HTML: our page and script around the vendored library.
/// Script bodies must never contain `</script`; a unit test checks it.
pub const CHART_HTML: &str = concat!(
    include_str!("../../assets/chart-app/head.html"),
    "<script>\n",
    include_str!(
        "../../assets/vendor/lightweight-charts/lightweight-charts.standalone.production.js"
    ),
    "\n</script>\n<script>\n",
    include_str!("../../assets/chart-app/chart.js"),
    "</script>\n</body>\n</html>\n",
);

/// Adds the chart view to the catalog.
pub fn register(catalog: CatalogBuilder, domain: Option<&AppDomain>) -> CatalogBuilder {
    catalog.resource(Arc::new(ChartView::new(domain)))
}

/// The `ui://` resource serving [`CHART_HTML`].
pub struct ChartView {
    meta: Value,
}

impl ChartView {
    pub fn new(domain: Option<&AppDomain>) -> Self {
        Self {
            meta: resource_meta(domain),
        }
    }
}

/// The resource's `_meta`, on its list entry and its content alike (hosts
/// read either; the content's wins). The CSP lists no domain because the
/// view loads nothing; ChatGPT's aliases say the same in its own keys.
fn resource_meta(domain: Option<&AppDomain>) -> Value {
    let mut ui = json!({
        "prefersBorder": true,
        "csp": { "connectDomains": [], "resourceDomains": [] },
    });
    let mut meta = json!({
        "openai/widgetDescription": "An interactive candlestick chart of the market the tool returned, \
    with volume, any requested indicators, and controls to change the interval or load older candles.",
        "openai/widgetPrefersBorder": true,
        "openai/widgetCSP": { "connect_domains": [], "resource_domains": [] },
    });
    if let Some(domain) = domain {
        ui["domain"] = json!(domain.as_str());
        meta["openai/widgetDomain"] = json!(domain.as_str());
    }
    meta["ui"] = ui;
    meta
}

impl Resource for ChartView {
    fn descriptor(&self) -> ResourceDescriptor {
        ResourceDescriptor {
            uri: CHART_URI.to_owned(),
            name: "chart",
            title: "Candlestick chart",
            description: "The interactive chart app (MCP Apps) that renders binance_klines and technical_analysis results: candles, volume, indicator overlays and panes.",
            mime_type: MIME_TYPE,
            meta: Some(self.meta.clone()),
        }
    }

    fn read(&self) -> BoxFuture<'_, Result<ResourceRead, ReadError>> {
        Box::pin(async move {
            Ok(ResourceRead {
                contents: vec![ResourceContents {
                    uri: CHART_URI.to_owned(),
                    mime_type: MIME_TYPE.to_owned(),
                    body: ResourceBody::Text(CHART_HTML.to_owned()),
                    meta: Some(self.meta.clone()),
                }],
                // The HTML is compiled in: it changes only with a deploy.
                ttl_ms: LIST_TTL_MS,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The budget for the whole document.
    const MAX_HTML_BYTES: usize = 300 * 1024;

    fn script_bodies() -> [&'static str; 2] {
        [
            include_str!(
                "../../assets/vendor/lightweight-charts/lightweight-charts.standalone.production.js"
            ),
            include_str!("../../assets/chart-app/chart.js"),
        ]
    }

    #[test]
    fn the_view_is_one_small_document() {
        assert!(CHART_HTML.starts_with("<!doctype html>"), "HTML5 document");
        assert!(
            CHART_HTML.len() < MAX_HTML_BYTES,
            "{} bytes",
            CHART_HTML.len()
        );
        assert_eq!(CHART_HTML.matches("<script>").count(), 2);
        assert_eq!(CHART_HTML.matches("</script>").count(), 2);
    }

    #[test]
    fn scripts_cannot_end_early_or_need_eval() {
        for body in script_bodies() {
            let lower = body.to_ascii_lowercase();
            assert!(!lower.contains("</script"), "would close the script");
            assert!(!lower.contains("<!--"), "would enter script-data escape");
            assert!(!body.contains("eval("), "needs unsafe-eval");
            assert!(!body.contains("new Function"), "needs unsafe-eval");
        }
    }

    #[test]
    fn the_view_loads_nothing_and_keeps_the_attribution() {
        let ours = [
            include_str!("../../assets/chart-app/head.html"),
            include_str!("../../assets/chart-app/chart.js"),
        ];
        for part in ours {
            let lower = part.to_ascii_lowercase();
            for loader in [
                "src=",
                "href=",
                "@import",
                "url(",
                "fetch(",
                "xmlhttprequest",
                "websocket",
                "eventsource",
                "sendbeacon",
                "localstorage",
                "window.open",
            ] {
                assert!(!lower.contains(loader), "{loader}");
            }
        }
        // The library names three URLs and loads none (the browser test
        // watches the network): an XML namespace, its licence, and the
        // TradingView link its attribution logo shows.
        let library = script_bodies()[0];
        let mut rest = library;
        while let Some(at) = rest.find("http") {
            let url = &rest[at..];
            assert!(
                [
                    "http://www.w3.org/2000/svg",
                    "https://www.apache.org/licenses/LICENSE-2.0",
                    "https://www.tradingview.com/?utm_medium=lwc-link",
                ]
                .iter()
                .any(|known| url.starts_with(known))
                    || !url.starts_with("http://") && !url.starts_with("https://"),
                "{}",
                &url[..url.len().min(60)]
            );
            rest = &rest[at + 4..];
        }
        assert!(
            CHART_HTML
                .contains("Copyright (с) 2023 TradingView, Inc. https://www.tradingview.com/")
        );
        assert!(CHART_HTML.contains("attributionLogo: true"));
    }

    #[test]
    fn the_domain_is_given_only_when_configured() {
        let none = resource_meta(None);
        assert!(none["ui"].get("domain").is_none());
        assert!(none.get("openai/widgetDomain").is_none());
        let domain: AppDomain = "https://crypto.example.com".parse().expect("domain");
        let some = resource_meta(Some(&domain));
        assert_eq!(some["ui"]["domain"], "https://crypto.example.com");
        assert_eq!(some["openai/widgetDomain"], "https://crypto.example.com");
    }
}
