//! Fixtures for the official MCP conformance suite: the `test_*` tools,
//! `test://` resources and prompts its scenarios call by name, with the
//! exact outputs it checks. Built only with `--features conformance`, so no
//! production binary contains them.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::mcp::catalog::{
    CatalogBuilder, GetPromptResult, Prompt, PromptArgument, PromptDescriptor, PromptMessage,
    Resource, ResourceDescriptor, ResourceRead, ResourceTemplate, TemplateDescriptor,
};
use crate::mcp::content::{Content, ResourceBody, ResourceContents};
use crate::mcp::error::ReadError;
use crate::mcp::session::LogLevel;
use crate::mcp::tool::{CallToolResult, DynTool, ToolContext};

/// A 1x1 red PNG and a minimal WAV, the suite's own sample media.
const IMAGE: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
const AUDIO: &str = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";
const STEP: Duration = Duration::from_millis(50);

type Handler = for<'a> fn(&'a ToolContext, Option<&'a RawValue>) -> BoxFuture<'a, CallToolResult>;

struct Fixture {
    name: &'static str,
    description: &'static str,
    input_schema: fn() -> Value,
    requires: &'static [&'static str],
    handler: Handler,
}

impl DynTool for Fixture {
    fn name(&self) -> &'static str {
        self.name
    }

    fn descriptor(&self) -> Value {
        json!({ "name": self.name, "description": self.description, "inputSchema": (self.input_schema)() })
    }

    fn required_client_capabilities(&self) -> &'static [&'static str] {
        self.requires
    }

    fn call<'a>(
        &'a self,
        ctx: &'a ToolContext,
        args: Option<&'a RawValue>,
    ) -> BoxFuture<'a, CallToolResult> {
        (self.handler)(ctx, args)
    }
}

fn no_args() -> Value {
    json!({ "type": "object", "properties": {} })
}

fn content(blocks: Vec<Content>) -> CallToolResult {
    CallToolResult {
        content: blocks,
        structured_content: None,
        is_error: false,
        meta: None,
    }
}

fn text_resource(uri: &str, mime_type: &str, text: &str) -> ResourceContents {
    ResourceContents {
        uri: uri.into(),
        mime_type: mime_type.into(),
        body: ResourceBody::Text(text.into()),
        meta: None,
    }
}

fn image() -> Content {
    Content::Image {
        data: IMAGE.into(),
        mime_type: "image/png".into(),
    }
}

fn fixtures() -> Vec<Fixture> {
    vec![
        Fixture {
            name: "test_simple_text",
            description: "Tests simple text content response",
            input_schema: no_args,
            requires: &[],
            handler: |_, _| {
                Box::pin(async {
                    content(vec![Content::text(
                        "This is a simple text response for testing.",
                    )])
                })
            },
        },
        Fixture {
            name: "test_image_content",
            description: "Tests image content response",
            input_schema: no_args,
            requires: &[],
            handler: |_, _| Box::pin(async { content(vec![image()]) }),
        },
        Fixture {
            name: "test_audio_content",
            description: "Tests audio content response",
            input_schema: no_args,
            requires: &[],
            handler: |_, _| {
                Box::pin(async {
                    content(vec![Content::Audio {
                        data: AUDIO.into(),
                        mime_type: "audio/wav".into(),
                    }])
                })
            },
        },
        Fixture {
            name: "test_embedded_resource",
            description: "Tests embedded resource content response",
            input_schema: no_args,
            requires: &[],
            handler: |_, _| {
                Box::pin(async {
                    content(vec![Content::Resource {
                        resource: text_resource(
                            "test://embedded-resource",
                            "text/plain",
                            "This is an embedded resource content.",
                        ),
                    }])
                })
            },
        },
        Fixture {
            name: "test_multiple_content_types",
            description: "Tests response with multiple content types (text, image, resource)",
            input_schema: no_args,
            requires: &[],
            handler: |_, _| {
                Box::pin(async {
                    content(vec![
                        Content::text("Multiple content types test:"),
                        image(),
                        Content::Resource {
                            resource: text_resource(
                                "test://mixed-content-resource",
                                "application/json",
                                &json!({ "test": "data", "value": 123 }).to_string(),
                            ),
                        },
                    ])
                })
            },
        },
        Fixture {
            name: "test_tool_with_logging",
            description: "Tests tool that emits log messages during execution",
            input_schema: no_args,
            requires: &[],
            handler: |ctx, _| Box::pin(log_three(ctx)),
        },
        Fixture {
            name: "test_logging_tool",
            description: "Emits log messages only when the request asked for a log level",
            input_schema: no_args,
            requires: &[],
            handler: |ctx, _| Box::pin(log_three(ctx)),
        },
        Fixture {
            name: "test_tool_with_progress",
            description: "Tests tool that reports progress notifications",
            input_schema: no_args,
            requires: &[],
            handler: |ctx, _| {
                Box::pin(async move {
                    for (i, step) in [0.0, 50.0, 100.0].into_iter().enumerate() {
                        if i > 0 {
                            tokio::time::sleep(STEP).await;
                        }
                        ctx.notifier.progress(
                            step,
                            Some(100.0),
                            &format!("Completed step {step} of 100"),
                        );
                    }
                    content(vec![Content::text("progress reported")])
                })
            },
        },
        Fixture {
            name: "test_error_handling",
            description: "Tests error response handling",
            input_schema: no_args,
            requires: &[],
            handler: |_, _| {
                Box::pin(async {
                    CallToolResult::error("This tool intentionally returns an error for testing")
                })
            },
        },
        Fixture {
            name: "test_missing_capability",
            description: "Needs the client's sampling capability; refused with -32021 without it",
            input_schema: no_args,
            requires: &["sampling"],
            handler: |_, _| {
                Box::pin(async {
                    CallToolResult::error("This server does not send sampling requests to clients.")
                })
            },
        },
        Fixture {
            name: "json_schema_2020_12_tool",
            description: "Tool with JSON Schema 2020-12 features for conformance testing (SEP-1613)",
            input_schema: || {
                json!({
                    "$schema": "https://json-schema.org/draft/2020-12/schema",
                    "type": "object",
                    "$defs": {
                        "address": {
                            "$anchor": "addressDef",
                            "type": "object",
                            "properties": { "street": { "type": "string" }, "city": { "type": "string" } }
                        }
                    },
                    "properties": {
                        "name": { "type": "string" },
                        "address": { "$ref": "#/$defs/address" },
                        "contactMethod": { "type": "string", "enum": ["phone", "email"] },
                        "phone": { "type": "string" },
                        "email": { "type": "string" }
                    },
                    "allOf": [{ "anyOf": [{ "required": ["phone"] }, { "required": ["email"] }] }],
                    "if": { "properties": { "contactMethod": { "const": "phone" } }, "required": ["contactMethod"] },
                    "then": { "required": ["phone"] },
                    "else": { "required": ["email"] },
                    "additionalProperties": false
                })
            },
            requires: &[],
            handler: |_, args| {
                let args = args.map_or("{}", RawValue::get).to_owned();
                Box::pin(async move {
                    content(vec![Content::text(format!(
                        "JSON Schema 2020-12 tool called with: {args}"
                    ))])
                })
            },
        },
    ]
}

async fn log_three(ctx: &ToolContext) -> CallToolResult {
    let messages = [
        "Tool execution started",
        "Tool processing data",
        "Tool execution completed",
    ];
    for (i, message) in messages.into_iter().enumerate() {
        if i > 0 {
            tokio::time::sleep(STEP).await;
        }
        ctx.notifier.log(LogLevel::Info, "conformance", message);
    }
    content(vec![Content::text(
        "Tool with logging executed successfully",
    )])
}

struct StaticResource {
    uri: &'static str,
    name: &'static str,
    title: &'static str,
    description: &'static str,
    mime_type: &'static str,
    body: fn() -> ResourceBody,
}

impl Resource for StaticResource {
    fn descriptor(&self) -> ResourceDescriptor {
        ResourceDescriptor {
            uri: self.uri.into(),
            name: self.name,
            title: self.title,
            description: self.description,
            mime_type: self.mime_type,
            meta: None,
        }
    }

    fn read(&self) -> BoxFuture<'_, Result<ResourceRead, ReadError>> {
        Box::pin(async move {
            Ok(ResourceRead {
                contents: vec![ResourceContents {
                    uri: self.uri.into(),
                    mime_type: self.mime_type.into(),
                    body: (self.body)(),
                    meta: None,
                }],
                ttl_ms: 60_000,
            })
        })
    }
}

struct DataTemplate;

impl ResourceTemplate for DataTemplate {
    fn descriptor(&self) -> TemplateDescriptor {
        TemplateDescriptor {
            uri_template: "test://template/{id}/data",
            name: "template",
            title: "Resource Template",
            description: "A resource template with parameter substitution",
            mime_type: "application/json",
        }
    }

    fn read<'a>(&'a self, uri: &'a str) -> Option<BoxFuture<'a, Result<ResourceRead, ReadError>>> {
        let id = uri
            .strip_prefix("test://template/")?
            .strip_suffix("/data")?;
        if id.is_empty() || id.contains('/') {
            return None;
        }
        let text = json!({ "id": id, "templateTest": true, "data": format!("Data for ID: {id}") })
            .to_string();
        Some(Box::pin(async move {
            Ok(ResourceRead {
                contents: vec![text_resource(uri, "application/json", &text)],
                ttl_ms: 60_000,
            })
        }))
    }
}

struct FixturePrompt {
    descriptor: PromptDescriptor,
    build: fn(&HashMap<String, String>) -> Vec<PromptMessage>,
}

impl Prompt for FixturePrompt {
    fn descriptor(&self) -> PromptDescriptor {
        self.descriptor.clone()
    }

    fn get(&self, args: &HashMap<String, String>) -> GetPromptResult {
        GetPromptResult {
            description: self.descriptor.description.into(),
            messages: (self.build)(args),
        }
    }
}

fn user(content: Content) -> PromptMessage {
    PromptMessage {
        role: "user",
        content,
    }
}

fn prompts() -> Vec<FixturePrompt> {
    let arg = |name, description| PromptArgument {
        name,
        description,
        required: true,
    };
    vec![
        FixturePrompt {
            descriptor: PromptDescriptor {
                name: "test_simple_prompt",
                title: "Simple Test Prompt",
                description: "A simple prompt without arguments",
                arguments: vec![],
            },
            build: |_| vec![user(Content::text("This is a simple prompt for testing."))],
        },
        FixturePrompt {
            descriptor: PromptDescriptor {
                name: "test_prompt_with_arguments",
                title: "Prompt With Arguments",
                description: "A prompt with required arguments",
                arguments: vec![
                    arg("arg1", "First test argument"),
                    arg("arg2", "Second test argument"),
                ],
            },
            build: |args| {
                let get = |k: &str| args.get(k).cloned().unwrap_or_default();
                vec![user(Content::text(format!(
                    "Prompt with arguments: arg1='{}', arg2='{}'",
                    get("arg1"),
                    get("arg2")
                )))]
            },
        },
        FixturePrompt {
            descriptor: PromptDescriptor {
                name: "test_prompt_with_embedded_resource",
                title: "Prompt With Embedded Resource",
                description: "A prompt that includes an embedded resource",
                arguments: vec![arg("resourceUri", "URI of the resource to embed")],
            },
            build: |args| {
                let uri = args.get("resourceUri").cloned().unwrap_or_default();
                vec![
                    user(Content::Resource {
                        resource: text_resource(
                            &uri,
                            "text/plain",
                            "Embedded resource content for testing.",
                        ),
                    }),
                    user(Content::text("Please process the embedded resource above.")),
                ]
            },
        },
        FixturePrompt {
            descriptor: PromptDescriptor {
                name: "test_prompt_with_image",
                title: "Prompt With Image",
                description: "A prompt that includes image content",
                arguments: vec![],
            },
            build: |_| {
                vec![
                    user(image()),
                    user(Content::text("Please analyze the image above.")),
                ]
            },
        },
    ]
}

/// Adds every fixture to the catalog.
pub fn register(mut catalog: CatalogBuilder) -> CatalogBuilder {
    for fixture in fixtures() {
        catalog = catalog.tool(Arc::new(fixture));
    }
    let resources = [
        StaticResource {
            uri: "test://static-text",
            name: "static-text",
            title: "Static Text Resource",
            description: "A static text resource for testing",
            mime_type: "text/plain",
            body: || ResourceBody::Text("This is the content of the static text resource.".into()),
        },
        StaticResource {
            uri: "test://static-binary",
            name: "static-binary",
            title: "Static Binary Resource",
            description: "A static binary resource (image) for testing",
            mime_type: "image/png",
            body: || ResourceBody::Blob(IMAGE.into()),
        },
        StaticResource {
            uri: "test://watched-resource",
            name: "watched-resource",
            title: "Watched Resource",
            description: "A resource clients may subscribe to",
            mime_type: "text/plain",
            body: || ResourceBody::Text("Watched resource content".into()),
        },
    ];
    for resource in resources {
        catalog = catalog.resource(Arc::new(resource));
    }
    for prompt in prompts() {
        catalog = catalog.prompt(Arc::new(prompt));
    }
    catalog.template(Arc::new(DataTemplate))
}
