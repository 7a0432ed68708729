//! JSON-RPC 2.0 messages as MCP uses them.
//!
//! Incoming bodies are parsed once into borrowed views: `id` and `params`
//! stay raw JSON so ids are echoed byte for byte (a client's `1.0` or
//! `"abc"` comes back exactly as sent) and params are decoded only by the
//! method that owns them. Responses are written by hand around a raw result,
//! which lets hot, unchanging results (tools/list) be serialised once, and
//! [`answer`] is the one place an outcome becomes wire text, whether it goes
//! out as a plain response, as the last event of a stream or inside a batch.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::era::EraKind;
use super::error::McpError;

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
    pub error: McpError,
}

impl<'a> Message<'a> {
    pub fn parse(raw: &'a str) -> Result<Self, Rejected<'a>> {
        let incoming: Incoming<'a> = serde_json::from_str(raw).map_err(|e| Rejected {
            id: None,
            error: match e.classify() {
                serde_json::error::Category::Data => McpError::InvalidRequest(e.to_string()),
                _ => McpError::Parse(e.to_string()),
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
            error: McpError::InvalidRequest(detail.to_owned()),
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
pub fn decode_params<T: DeserializeOwned>(params: Option<&RawValue>) -> Result<T, McpError> {
    decode_with_path(params.map_or("{}", RawValue::get))
        .map_err(|error| McpError::MalformedParams(error.to_string()))
}

/// Why JSON text did not decode, with the path of the offending field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// `` `field.path` `` as serde_path_to_error writes it; `.` for the root.
    path: String,
    problem: String,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path == "." {
            f.write_str(&self.problem)
        } else {
            write!(f, "`{}`: {}", self.path, self.problem)
        }
    }
}

impl std::error::Error for DecodeError {}

/// Deserialises JSON text, naming the offending field on failure.
pub fn decode_with_path<T: DeserializeOwned>(json: &str) -> Result<T, DecodeError> {
    let mut de = serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(&mut de).map_err(|e| DecodeError {
        path: e.path().to_string(),
        problem: without_position(e.inner()),
    })
}

/// serde_json's message without the ` at line L column C` it appends: a
/// position in JSON the caller may never have seen (a client wrote it).
pub fn without_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    match text.strip_suffix(&suffix) {
        Some(message) => message.to_owned(),
        None => text,
    }
}

/// A result as JSON text: shared when prebuilt, owned when computed.
#[derive(Debug)]
pub enum Payload {
    Shared(Arc<str>),
    Owned(String),
}

impl Payload {
    pub fn as_str(&self) -> &str {
        match self {
            Self::Shared(text) => text,
            Self::Owned(text) => text,
        }
    }

    pub fn empty() -> Self {
        Self::Shared(Arc::from("{}"))
    }
}

/// One answer on the wire: the JSON-RPC response text, and the HTTP status
/// it goes out with when it is a whole response on its own.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: String,
}

/// Turns a request's outcome into its response. `id` is `None` when the
/// request's id could not be read (or it never had one).
pub fn answer(id: Option<&RawValue>, outcome: &Result<Payload, McpError>, era: EraKind) -> Answer {
    let id = id.map_or("null", RawValue::get);
    match outcome {
        Ok(payload) => Answer {
            status: StatusCode::OK,
            body: result_envelope(id, payload.as_str()),
        },
        Err(error) => Answer {
            status: error.status(era),
            body: format!(
                r#"{{"jsonrpc":"2.0","id":{id},"error":{}}}"#,
                error.to_object(era)
            ),
        },
    }
}

/// Writes `{"jsonrpc":"2.0","id":…,"result":…}`.
fn result_envelope(id: &str, result: &str) -> String {
    let mut out = String::with_capacity(result.len() + id.len() + 36);
    out.push_str(r#"{"jsonrpc":"2.0","id":"#);
    out.push_str(id);
    out.push_str(r#","result":"#);
    out.push_str(result);
    out.push('}');
    out
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        (
            self.status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            self.body,
        )
            .into_response()
    }
}

/// An error found before a request was placed in an era (or with no
/// request at all), answered with a `null` id. Such errors look the same in
/// both eras.
impl IntoResponse for McpError {
    fn into_response(self) -> Response {
        answer(None, &Err(self), EraKind::Handshake).into_response()
    }
}

/// Writes a server-to-client notification.
pub fn notification(method: &str, params: &Value) -> String {
    json!({ "jsonrpc": "2.0", "method": method, "params": params }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mcp::error::{INVALID_REQUEST, PARSE_ERROR};

    #[test]
    fn ids_are_kept_raw() {
        let Ok(Message::Request(req)) =
            Message::parse(r#"{"jsonrpc":"2.0","id":1.50,"method":"ping"}"#)
        else {
            panic!("expected a request");
        };
        assert_eq!(req.id.get(), "1.50");
        let answer = answer(Some(req.id), &Ok(Payload::empty()), EraKind::Handshake);
        assert_eq!(answer.body, r#"{"jsonrpc":"2.0","id":1.50,"result":{}}"#);
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
            assert_eq!(rejected.error.code(EraKind::Handshake), code, "{body}");
        }
    }

    #[test]
    fn decode_names_the_field() {
        #[derive(Debug, Deserialize)]
        struct P {
            name: String,
        }
        let raw = RawValue::from_string(r#"{"name":"x"}"#.into()).expect("raw");
        assert_eq!(decode_params::<P>(Some(&raw)).expect("decodes").name, "x");
        let error = decode_params::<P>(None).expect_err("name is required");
        assert!(
            error.to_string().contains("missing field `name`"),
            "{error}"
        );
        let raw = RawValue::from_string(r#"{"name":5}"#.into()).expect("raw");
        let error = decode_params::<P>(Some(&raw)).expect_err("type error");
        assert!(error.to_string().contains("`name`"), "{error}");
    }
}
