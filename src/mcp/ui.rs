//! The MCP Apps extension (`io.modelcontextprotocol/ui`, stable revision
//! 2026-01-26) as the protocol sees it: its id and MIME type, the
//! capability `initialize` declares, and the `_meta` a tool descriptor
//! carries to name the view that renders its results. The views themselves
//! are features built on this layer ([`crate::apps`]).

use serde_json::{Value, json};

/// The extension's id, as `initialize` capabilities name it.
pub const EXTENSION_ID: &str = "io.modelcontextprotocol/ui";
/// The only MIME type the extension defines; hosts compare it exactly.
pub const MIME_TYPE: &str = "text/html;profile=mcp-app";
/// What the server declares under `capabilities.extensions` (both eras).
pub fn extension_capability() -> Value {
    json!({ "mimeTypes": [MIME_TYPE] })
}

/// How a tool's results render as an app: the view, and the status lines
/// ChatGPT shows while the tool runs and after (at most 64 characters).
#[derive(Debug, Clone, Copy)]
pub struct ToolUi {
    pub resource_uri: &'static str,
    pub invoking: &'static str,
    pub invoked: &'static str,
}

impl ToolUi {
    /// The tool descriptor's `_meta`. The standard key, its deprecated flat
    /// twin (hosts must still read it, and the official SDK still writes
    /// it) and ChatGPT's aliases. `visibility` names the app too because
    /// the view calls the tool itself.
    pub fn descriptor_meta(&self) -> Value {
        json!({
            "ui": { "resourceUri": self.resource_uri, "visibility": ["model", "app"] },
            "ui/resourceUri": self.resource_uri,
            "openai/outputTemplate": self.resource_uri,
            "openai/widgetAccessible": true,
            "openai/toolInvocation/invoking": self.invoking,
            "openai/toolInvocation/invoked": self.invoked,
        })
    }
}
