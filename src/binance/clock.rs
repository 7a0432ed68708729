//! Where the client reads the time and waits: a monotonic instant for
//! expiry and blocks, Unix milliseconds for Binance's minute windows and to
//! tell closed candles from the open one, and a sleep for the weight
//! budget's short waits.
//!
//! Everything time-dependent goes through [`Clock`], so tests drive a
//! [`ManualClock`] instead of sleeping: a cache entry expires, a ban lifts
//! or a minute of request weight frees the moment the test says so.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::future::BoxFuture;
use tokio::sync::watch;

pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> Instant;
    fn unix_ms(&self) -> i64;
    /// Resolves once `duration` has passed on this clock.
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()>;
}

/// The real clock.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn unix_ms(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A clock that moves only when told to, for tests. A sleep on it ends
/// when [`ManualClock::advance`] has moved it far enough.
#[derive(Debug)]
pub struct ManualClock {
    start: Instant,
    start_unix_ms: i64,
    elapsed: watch::Sender<Duration>,
}

impl ManualClock {
    /// A clock standing at `unix_ms`.
    pub fn new(unix_ms: i64) -> Arc<Self> {
        Arc::new(Self {
            start: Instant::now(),
            start_unix_ms: unix_ms,
            elapsed: watch::channel(Duration::ZERO).0,
        })
    }

    pub fn advance(&self, by: Duration) {
        self.elapsed.send_modify(|elapsed| *elapsed += by);
    }

    fn elapsed(&self) -> Duration {
        *self.elapsed.borrow()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + self.elapsed()
    }

    fn unix_ms(&self) -> i64 {
        self.start_unix_ms + i64::try_from(self.elapsed().as_millis()).unwrap_or(i64::MAX)
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        let until = self.elapsed() + duration;
        let mut elapsed = self.elapsed.subscribe();
        Box::pin(async move {
            // An error means the clock is gone: nothing will ever wake us,
            // so stop waiting.
            let _ = elapsed.wait_for(|now| *now >= until).await;
        })
    }
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;

    use super::*;

    #[tokio::test]
    async fn a_manual_sleep_ends_when_the_clock_is_advanced_far_enough() {
        let clock = ManualClock::new(1_000);
        let mut sleep = clock.sleep(Duration::from_secs(2));
        clock.advance(Duration::from_secs(1));
        assert!(
            (&mut sleep).now_or_never().is_none(),
            "one second is not enough"
        );
        clock.advance(Duration::from_secs(1));
        sleep.await;
        assert_eq!(clock.unix_ms(), 3_000);
    }
}
