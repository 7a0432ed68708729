//! Progress and log notifications sent while a request runs.
//!
//! A request answered as plain JSON has nowhere to put notifications, so its
//! [`Notifier`] is silent. When the client accepts `text/event-stream` and
//! asked for progress (`_meta.progressToken`) or logs (a level), the
//! transport answers with an SSE stream and the notifier feeds it.

use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::mpsc;

use super::jsonrpc;
use super::session::LogLevel;

/// Notifications queued per streamed request before extra ones are dropped:
/// progress is advisory and must never slow the tool down.
pub const NOTIFICATION_QUEUE: usize = 64;

/// A request's `progressToken`, echoed in its progress notifications.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ProgressToken {
    Text(String),
    Number(serde_json::Number),
}

#[derive(Debug, Default)]
pub struct Notifier {
    sink: Option<mpsc::Sender<String>>,
    progress_token: Option<ProgressToken>,
    log_level: Option<LogLevel>,
}

impl Notifier {
    /// A notifier writing to `sink`, for a streamed request.
    pub fn streaming(
        sink: mpsc::Sender<String>,
        progress_token: Option<ProgressToken>,
        log_level: Option<LogLevel>,
    ) -> Self {
        Self {
            sink: Some(sink),
            progress_token,
            log_level,
        }
    }

    /// Whether a request with this token and level wants a stream at all.
    pub fn wanted(progress_token: Option<&ProgressToken>, log_level: Option<LogLevel>) -> bool {
        progress_token.is_some() || log_level.is_some()
    }

    pub fn progress(&self, progress: f64, total: Option<f64>, message: &str) {
        let (Some(sink), Some(token)) = (&self.sink, &self.progress_token) else {
            return;
        };
        let mut params =
            json!({ "progressToken": token, "progress": progress, "message": message });
        if let Some(total) = total {
            params["total"] = json!(total);
        }
        let _ = sink.try_send(jsonrpc::notification("notifications/progress", &params));
    }

    pub fn log(&self, level: LogLevel, logger: &str, data: impl Serialize) {
        let (Some(sink), Some(threshold)) = (&self.sink, self.log_level) else {
            return;
        };
        if level < threshold {
            return;
        }
        let params = json!({ "level": level.as_str(), "logger": logger, "data": data });
        let _ = sink.try_send(jsonrpc::notification("notifications/message", &params));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn logs_respect_the_level_and_silence_without_a_sink() {
        let (tx, mut rx) = mpsc::channel(8);
        let notifier = Notifier::streaming(tx, None, Some(LogLevel::Warning));
        notifier.log(LogLevel::Info, "t", "quiet");
        notifier.log(LogLevel::Error, "t", "loud");
        notifier.progress(1.0, None, "no token, no progress");
        drop(notifier);
        let only = rx.recv().await.expect("one message");
        assert!(
            only.contains("\"loud\"") && only.contains("notifications/message"),
            "{only}"
        );
        assert!(rx.recv().await.is_none());
        Notifier::default().log(LogLevel::Emergency, "t", "nowhere to go");
    }

    #[tokio::test]
    async fn progress_carries_the_token() {
        let (tx, mut rx) = mpsc::channel(8);
        let notifier = Notifier::streaming(tx, Some(ProgressToken::Text("tok".into())), None);
        notifier.progress(50.0, Some(100.0), "half");
        let message: serde_json::Value =
            serde_json::from_str(&rx.recv().await.expect("sent")).expect("json");
        assert_eq!(message["params"]["progressToken"], "tok");
        assert_eq!(message["params"]["total"], 100.0);
    }
}
