//! What the server offers: tools, prompts, resources and resource
//! templates, plus their list results serialised once at startup.
//!
//! Lists never change while the process runs, so `tools/list` and friends
//! are answered from prebuilt JSON text, one variant per era (the stateless
//! era adds `resultType`, `ttlMs` and `cacheScope`). That keeps the hottest
//! method a memcpy.

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde::Serialize;
use serde_json::{Value, json};

use super::content::{Content, ResourceContents};
use super::era::{Era, mark_complete};
use super::error::ReadError;
use super::tool::{DynTool, ToolRegistry};

/// How long clients may cache list results. Lists change only on deploy.
pub const LIST_TTL_MS: u64 = 5 * 60 * 1000;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PromptDescriptor {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub arguments: Vec<PromptArgument>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PromptArgument {
    pub name: &'static str,
    pub description: &'static str,
    pub required: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct PromptMessage {
    pub role: &'static str,
    pub content: Content,
}

#[derive(Debug, Clone, Serialize)]
pub struct GetPromptResult {
    pub description: String,
    pub messages: Vec<PromptMessage>,
}

pub trait Prompt: Send + Sync {
    fn descriptor(&self) -> PromptDescriptor;
    /// Builds the messages; required arguments are checked before this runs.
    fn get(&self, args: &HashMap<String, String>) -> GetPromptResult;
    /// Suggestions for one argument's value.
    fn complete<'a>(&'a self, _argument: &'a str, _value: &'a str) -> BoxFuture<'a, Vec<String>> {
        Box::pin(async { Vec::new() })
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceDescriptor {
    pub uri: String,
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub mime_type: &'static str,
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Value>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateDescriptor {
    pub uri_template: &'static str,
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub mime_type: &'static str,
}

/// A successful read, with how long its contents stay fresh.
pub struct ResourceRead {
    pub contents: Vec<ResourceContents>,
    pub ttl_ms: u64,
}

pub trait Resource: Send + Sync {
    fn descriptor(&self) -> ResourceDescriptor;
    fn read(&self) -> BoxFuture<'_, Result<ResourceRead, ReadError>>;
}

pub trait ResourceTemplate: Send + Sync {
    fn descriptor(&self) -> TemplateDescriptor;
    /// Reads `uri` if it belongs to this template, `None` otherwise.
    fn read<'a>(&'a self, uri: &'a str) -> Option<BoxFuture<'a, Result<ResourceRead, ReadError>>>;
    fn complete<'a>(&'a self, _argument: &'a str, _value: &'a str) -> BoxFuture<'a, Vec<String>> {
        Box::pin(async { Vec::new() })
    }
}

/// A list result as JSON text for each era.
#[derive(Debug, Clone)]
pub struct Prebuilt {
    handshake: Arc<str>,
    stateless: Arc<str>,
}

impl Prebuilt {
    fn new(key: &str, items: Value) -> Self {
        let handshake = json!({ key: items }).to_string();
        Self {
            stateless: mark_complete(handshake.clone(), Some(LIST_TTL_MS)).into(),
            handshake: handshake.into(),
        }
    }

    pub fn for_era(&self, era: &Era) -> Arc<str> {
        match era {
            Era::Handshake { .. } => self.handshake.clone(),
            Era::Stateless { .. } => self.stateless.clone(),
        }
    }
}

#[derive(Default)]
pub struct CatalogBuilder {
    tools: ToolRegistry,
    oauth_scopes: Option<&'static [&'static str]>,
    prompts: Vec<Arc<dyn Prompt>>,
    resources: Vec<Arc<dyn Resource>>,
    templates: Vec<Arc<dyn ResourceTemplate>>,
}

impl CatalogBuilder {
    pub fn tools(mut self, tools: ToolRegistry) -> Self {
        self.tools = tools;
        self
    }

    /// Declares that every tool needs an OAuth token with these scopes, as
    /// ChatGPT reads it: `securitySchemes` on the tool and, because SDKs
    /// drop unknown top-level fields, a copy in its `_meta`.
    pub fn oauth_scopes(mut self, scopes: Option<&'static [&'static str]>) -> Self {
        self.oauth_scopes = scopes;
        self
    }

    pub fn tool(mut self, tool: Arc<dyn DynTool>) -> Self {
        self.tools = self.tools.with_dyn(tool);
        self
    }

    pub fn prompt(mut self, prompt: Arc<dyn Prompt>) -> Self {
        self.prompts.push(prompt);
        self
    }

    pub fn resource(mut self, resource: Arc<dyn Resource>) -> Self {
        self.resources.push(resource);
        self
    }

    pub fn template(mut self, template: Arc<dyn ResourceTemplate>) -> Self {
        self.templates.push(template);
        self
    }

    pub fn build(self) -> Catalog {
        let mut tools = self.tools.descriptors();
        let tool_cards = self
            .tools
            .iter()
            .zip(&tools)
            .map(|(tool, descriptor)| ToolCard {
                name: tool.name(),
                title: descriptor["title"]
                    .as_str()
                    .unwrap_or(tool.name())
                    .to_owned(),
                summary: tool.summary(),
            })
            .collect();
        if let Some(scopes) = self.oauth_scopes {
            let schemes = json!([{ "type": "oauth2", "scopes": scopes }]);
            for tool in &mut tools {
                tool["securitySchemes"] = schemes.clone();
                // Added to any `_meta` the tool has (an app link, say).
                tool["_meta"]["securitySchemes"] = schemes.clone();
            }
        }
        let tools_list = Prebuilt::new("tools", Value::Array(tools));
        let prompts_list = Prebuilt::new(
            "prompts",
            json!(
                self.prompts
                    .iter()
                    .map(|p| p.descriptor())
                    .collect::<Vec<_>>()
            ),
        );
        let resources_list = Prebuilt::new(
            "resources",
            json!(
                self.resources
                    .iter()
                    .map(|r| r.descriptor())
                    .collect::<Vec<_>>()
            ),
        );
        let templates_list = Prebuilt::new(
            "resourceTemplates",
            json!(
                self.templates
                    .iter()
                    .map(|t| t.descriptor())
                    .collect::<Vec<_>>()
            ),
        );
        Catalog {
            tools: self.tools,
            tool_cards,
            prompts: self.prompts,
            resources: self.resources,
            templates: self.templates,
            tools_list,
            prompts_list,
            resources_list,
            templates_list,
        }
    }
}

/// A tool as people see it on the server's page.
#[derive(Debug, Clone)]
pub struct ToolCard {
    pub name: &'static str,
    pub title: String,
    pub summary: Option<&'static str>,
}

pub struct Catalog {
    pub tools: ToolRegistry,
    /// The tools in `tools/list` order, for the page.
    pub tool_cards: Vec<ToolCard>,
    prompts: Vec<Arc<dyn Prompt>>,
    resources: Vec<Arc<dyn Resource>>,
    templates: Vec<Arc<dyn ResourceTemplate>>,
    pub tools_list: Prebuilt,
    pub prompts_list: Prebuilt,
    pub resources_list: Prebuilt,
    pub templates_list: Prebuilt,
}

impl Catalog {
    pub fn builder() -> CatalogBuilder {
        CatalogBuilder::default()
    }

    pub fn prompt(&self, name: &str) -> Option<&Arc<dyn Prompt>> {
        self.prompts.iter().find(|p| p.descriptor().name == name)
    }

    pub fn template(&self, uri_template: &str) -> Option<&Arc<dyn ResourceTemplate>> {
        self.templates
            .iter()
            .find(|t| t.descriptor().uri_template == uri_template)
    }

    /// Whether `uri` names a resource we can read (directly or through a
    /// template), without reading it.
    pub fn knows_uri(&self, uri: &str) -> bool {
        self.resources.iter().any(|r| r.descriptor().uri == uri)
            || self.templates.iter().any(|t| t.read(uri).is_some())
    }

    /// Reads `uri`, or `None` when no resource or template owns it.
    pub async fn read(&self, uri: &str) -> Option<Result<ResourceRead, ReadError>> {
        if let Some(resource) = self.resources.iter().find(|r| r.descriptor().uri == uri) {
            return Some(resource.read().await);
        }
        for template in &self.templates {
            if let Some(read) = template.read(uri) {
                return Some(read.await);
            }
        }
        None
    }
}
