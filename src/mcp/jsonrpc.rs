//! JSON-RPC 2.0 messages as MCP uses them.
//!
//! Incoming bodies are parsed once into borrowed views: `id` and `params`
//! stay raw JSON so ids are echoed byte for byte (a client's `1.0` or
//! `"abc"` comes back exactly as sent) and params are decoded only by the
//! method that owns them. Responses are written by hand around a raw result,
//! which lets hot, unchanging results (tools/list) be serialised once.

use std::borrow::Cow;
use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;
use serde_json::{Value, json};

pub const PARSE_ERROR: i32 = -32700;
pub const INVALID_REQUEST: i32 = -32600;
pub const METHOD_NOT_FOUND: i32 = -32601;
pub const INVALID_PARAMS: i32 = -32602;
pub const INTERNAL_ERROR: i32 = -32603;
/// Handshake-era code for an unknown resource URI; 2026-07-28 uses -32602.
pub const RESOURCE_NOT_FOUND: i32 = -32002;
pub const HEADER_MISMATCH: i32 = -32020;
pub const MISSING_CLIENT_CAPABILITY: i32 = -32021;
pub const UNSUPPORTED_PROTOCOL_VERSION: i32 = -32022;

/// A JSON-RPC error object, ready to be written on the wire.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RpcError {
    pub code: i32,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl RpcError {
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }

    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    pub fn parse_error(detail: impl fmt::Display) -> Self {
        Self::new(PARSE_ERROR, format!("Parse error: {detail}"))
    }

    pub fn invalid_request(detail: impl fmt::Display) -> Self {
        Self::new(INVALID_REQUEST, format!("Invalid request: {detail}"))
    }

    pub fn method_not_found(method: &str) -> Self {
        Self::new(METHOD_NOT_FOUND, format!("Method not found: {method}"))
            .with_data(json!({ "method": method }))
    }

    pub fn invalid_params(detail: impl fmt::Display) -> Self {
        Self::new(INVALID_PARAMS, format!("Invalid params: {detail}"))
    }

    pub fn internal() -> Self {
        Self::new(INTERNAL_ERROR, "Internal error")
    }

    /// The shared session store cannot answer: nothing was done, and the
    /// same request may be sent again shortly.
    pub fn sessions_unavailable() -> Self {
        Self::new(
            INTERNAL_ERROR,
            "Internal error: the session store is unavailable; try again shortly",
        )
    }
}

/// One JSON-RPC message as received, borrowing from the request body.
#[derive(Debug, Deserialize)]
pub struct Incoming<'a> {
    #[serde(default, borrow)]
    jsonrpc: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "raw_even_if_null")]
    id: Option<&'a RawValue>,
    #[serde(default, borrow)]
    method: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    params: Option<&'a RawValue>,
    #[serde(default, borrow)]
    result: Option<&'a RawValue>,
    #[serde(default, borrow)]
    error: Option<&'a RawValue>,
}

/// `Option<&RawValue>` would read `"id": null` as "no id" and turn an
/// invalid request into a notification; keep the null so it is refused.
fn raw_even_if_null<'de, D: Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(d).map(Some)
}

/// What an incoming message turned out to be.
#[derive(Debug)]
pub enum Message<'a> {
    Request(Request<'a>),
    Notification {
        method: Cow<'a, str>,
    },
    /// A response to a server-initiated request; we send none, so it is
    /// acknowledged and dropped.
    Response,
}

#[derive(Debug)]
pub struct Request<'a> {
    pub id: &'a RawValue,
    pub method: Cow<'a, str>,
    pub params: Option<&'a RawValue>,
}

/// Failure to turn a body into a [`Message`], with the id to answer under
/// when one could be read.
#[derive(Debug)]
pub struct Rejected<'a> {
    pub id: Option<&'a RawValue>,
    pub error: RpcError,
}

impl<'a> Message<'a> {
    pub fn parse(raw: &'a str) -> Result<Self, Rejected<'a>> {
        let incoming: Incoming<'a> = serde_json::from_str(raw).map_err(|e| Rejected {
            id: None,
            error: match e.classify() {
                serde_json::error::Category::Data => RpcError::invalid_request(e),
                _ => RpcError::parse_error(e),
            },
        })?;
        incoming.classify()
    }
}

impl<'a> Incoming<'a> {
    fn classify(self) -> Result<Message<'a>, Rejected<'a>> {
        let valid_id = self.id.filter(|id| is_valid_id(id));
        let reject = |detail: &str| Rejected {
            id: valid_id,
            error: RpcError::invalid_request(detail),
        };
        if self.jsonrpc.as_deref() != Some("2.0") {
            return Err(reject("\"jsonrpc\" must be \"2.0\""));
        }
        if self.id.is_some() && valid_id.is_none() {
            return Err(reject("\"id\" must be a string or a number"));
        }
        match (self.method, valid_id) {
            (Some(method), Some(id)) => Ok(Message::Request(Request {
                id,
                method,
                params: self.params.filter(|p| p.get() != "null"),
            })),
            (Some(method), None) => Ok(Message::Notification { method }),
            (None, Some(_)) if self.result.is_some() || self.error.is_some() => {
                Ok(Message::Response)
            }
            _ => Err(reject("expected a request, a notification or a response")),
        }
    }
}

fn is_valid_id(id: &RawValue) -> bool {
    matches!(id.get().as_bytes().first(), Some(b'"' | b'-' | b'0'..=b'9'))
}

/// Decodes a method's params, naming the offending field on failure.
pub fn decode_params<T: DeserializeOwned + Default>(
    params: Option<&RawValue>,
) -> Result<T, RpcError> {
    match params {
        None => Ok(T::default()),
        Some(raw) => decode_with_path(raw.get()).map_err(RpcError::invalid_params),
    }
}

/// Deserialises JSON text, reporting failures as "`field.path`: problem".
pub fn decode_with_path<T: DeserializeOwned>(json: &str) -> Result<T, String> {
    let mut de = serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            e.into_inner().to_string()
        } else {
            format!("`{path}`: {}", e.into_inner())
        }
    })
}

/// Writes `{"jsonrpc":"2.0","id":…,"result":…}`.
pub fn result_envelope(id: &RawValue, result: &str) -> String {
    let mut out = String::with_capacity(result.len() + id.get().len() + 36);
    out.push_str(r#"{"jsonrpc":"2.0","id":"#);
    out.push_str(id.get());
    out.push_str(r#","result":"#);
    out.push_str(result);
    out.push('}');
    out
}

/// Writes `{"jsonrpc":"2.0","id":…,"error":…}`; `id` is `null` when the
/// request's id could not be read.
pub fn error_envelope(id: Option<&RawValue>, error: &RpcError) -> String {
    let id = id.map_or("null", RawValue::get);
    let error = serde_json::to_string(error)
        .unwrap_or_else(|_| r#"{"code":-32603,"message":"Internal error"}"#.to_owned());
    format!(r#"{{"jsonrpc":"2.0","id":{id},"error":{error}}}"#)
}

/// Writes a server-to-client notification.
pub fn notification(method: &str, params: &Value) -> String {
    json!({ "jsonrpc": "2.0", "method": method, "params": params }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_kept_raw() {
        let Ok(Message::Request(req)) =
            Message::parse(r#"{"jsonrpc":"2.0","id":1.50,"method":"ping"}"#)
        else {
            panic!("expected a request");
        };
        assert_eq!(req.id.get(), "1.50");
        assert_eq!(
            result_envelope(req.id, "{}"),
            r#"{"jsonrpc":"2.0","id":1.50,"result":{}}"#
        );
    }

    #[test]
    fn classifies_every_shape() {
        assert!(matches!(
            Message::parse(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#),
            Ok(Message::Notification { .. })
        ));
        assert!(matches!(
            Message::parse(r#"{"jsonrpc":"2.0","id":"a","result":{}}"#),
            Ok(Message::Response)
        ));
        let cases = [
            (
                r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#,
                INVALID_REQUEST,
            ),
            (
                r#"{"jsonrpc":"2.0","id":{},"method":"ping"}"#,
                INVALID_REQUEST,
            ),
            (
                r#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#,
                INVALID_REQUEST,
            ),
            (r#"{"jsonrpc":"2.0","id":1}"#, INVALID_REQUEST),
            (r#"{"jsonrpc":"2.0","id":1,"method":5}"#, INVALID_REQUEST),
            (r#"{"jsonrpc":"2.0","#, PARSE_ERROR),
            ("not json", PARSE_ERROR),
        ];
        for (body, code) in cases {
            let rejected = Message::parse(body).expect_err(body);
            assert_eq!(rejected.error.code, code, "{body}");
        }
    }

    #[test]
    fn decode_names_the_field() {
        #[derive(Debug, Default, Deserialize)]
        struct P {
            name: String,
        }
        let raw = RawValue::from_string(r#"{"name":"x"}"#.into()).expect("raw");
        assert_eq!(decode_params::<P>(Some(&raw)).expect("decodes").name, "x");
        assert_eq!(decode_params::<P>(None).expect("defaults").name, "");
        let raw = RawValue::from_string(r#"{"name":5}"#.into()).expect("raw");
        let error = decode_params::<P>(Some(&raw)).expect_err("type error");
        assert!(error.message.contains("`name`"), "{}", error.message);
    }
}
