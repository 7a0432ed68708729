//! A small TTL cache that coalesces concurrent identical requests.
//!
//! Each key holds a `tokio::sync::OnceCell`: the first caller runs the fetch,
//! every caller arriving meanwhile awaits the same cell, so fifty identical
//! requests make one upstream call. A failed fetch is handed to everyone who
//! waited on it, then dropped: errors are never cached. Each entry carries
//! its own TTL (klines of a closed range live much longer than a ticker), and
//! time comes from an injected [`Clock`] so tests can expire entries without
//! sleeping. A hand-written cache is used instead of `moka` because moka's
//! clock cannot be injected.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

use super::clock::Clock;
use super::error::BinanceError;

/// A value from Binance and how fresh it is.
#[derive(Debug)]
pub struct Fetched<T> {
    pub value: Arc<T>,
    /// When Binance answered, on the client's clock.
    pub fetched_at: Instant,
    /// True when this call made no upstream request (a cache hit, or it
    /// waited for an identical request already in flight).
    pub cached: bool,
}

impl<T> Fetched<T> {
    /// Time since Binance answered, at `now`: read when the result is
    /// written, so a fresh fetch is as old as the work done since.
    pub fn age(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.fetched_at)
    }
}

impl<T> Clone for Fetched<T> {
    fn clone(&self) -> Self {
        Self {
            value: Arc::clone(&self.value),
            fetched_at: self.fetched_at,
            cached: self.cached,
        }
    }
}

struct Stored<T> {
    value: Arc<T>,
    fetched_at: Instant,
    expires_at: Instant,
}

impl<T> Clone for Stored<T> {
    fn clone(&self) -> Self {
        Self {
            value: Arc::clone(&self.value),
            fetched_at: self.fetched_at,
            expires_at: self.expires_at,
        }
    }
}

type Slot<T> = OnceCell<Result<Stored<T>, BinanceError>>;

pub(crate) struct Cache<T> {
    slots: Mutex<HashMap<String, Arc<Slot<T>>>>,
    capacity: usize,
}

impl<T> Cache<T> {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            slots: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    /// The fresh value under `key`, or the result of `fetch`, which returns
    /// the value and how long it stays fresh.
    pub(crate) async fn get_or_fetch<F, Fut>(
        &self,
        key: String,
        clock: &dyn Clock,
        fetch: F,
    ) -> Result<Fetched<T>, BinanceError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(T, Duration), BinanceError>>,
    {
        let slot = self.slot(key.clone(), clock.now());
        let mut fetched_here = false;
        let result = slot
            .get_or_init(|| async {
                fetched_here = true;
                let (value, ttl) = fetch().await?;
                let fetched_at = clock.now();
                Ok(Stored {
                    value: Arc::new(value),
                    fetched_at,
                    expires_at: fetched_at + ttl,
                })
            })
            .await
            .clone();
        match result {
            Ok(stored) => Ok(Fetched {
                value: stored.value,
                fetched_at: stored.fetched_at,
                cached: !fetched_here,
            }),
            Err(error) => {
                let mut slots = self.lock();
                if slots.get(&key).is_some_and(|s| Arc::ptr_eq(s, &slot)) {
                    slots.remove(&key);
                }
                Err(error)
            }
        }
    }

    /// The slot to await: the current one if fresh or in flight, else a new
    /// empty one.
    fn slot(&self, key: String, now: Instant) -> Arc<Slot<T>> {
        let mut slots = self.lock();
        if let Some(slot) = slots.get(&key)
            && is_live(slot, now)
        {
            return Arc::clone(slot);
        }
        if slots.len() >= self.capacity {
            evict(&mut slots, now);
        }
        let slot = Arc::new(OnceCell::new());
        slots.insert(key, Arc::clone(&slot));
        slot
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Slot<T>>>> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// In flight, or holding a value that has not expired.
fn is_live<T>(slot: &Slot<T>, now: Instant) -> bool {
    match slot.get() {
        None => true,
        Some(Ok(stored)) => stored.expires_at > now,
        Some(Err(_)) => false,
    }
}

/// Drops dead entries; if none were dead, the one closest to expiry.
/// Requests in flight are never dropped.
fn evict<T>(slots: &mut HashMap<String, Arc<Slot<T>>>, now: Instant) {
    let before = slots.len();
    slots.retain(|_, slot| is_live(slot, now));
    if slots.len() < before {
        return;
    }
    let soonest = slots
        .iter()
        .filter_map(|(key, slot)| match slot.get() {
            Some(Ok(stored)) => Some((stored.expires_at, key.clone())),
            _ => None,
        })
        .min();
    if let Some((_, key)) = soonest {
        slots.remove(&key);
    }
}
