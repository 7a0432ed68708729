//! The request-weight budget of one Binance host: what we may still send
//! this minute without risking a 429, and the ban that repeated 429s earn.
//!
//! Binance meters weight per IP in fixed calendar minutes (the
//! `X-MBX-USED-WEIGHT-1M` count resets at each :00), so the budget does too:
//! - **Charged before the call.** Each request costs its documented weight,
//!   reserved before it is sent; a request that would pass
//!   [`PLANNED_SHARE`] of the limit is not sent. Cache hits never get here.
//! - **Resynced after it.** Binance's own count in the header replaces ours
//!   when it is higher (another process on the same IP, a weight we
//!   under-estimated), never when lower: in-flight requests are not yet in
//!   Binance's count.
//! - **Fair between callers.** While anyone else has called in the last
//!   [`ACTIVE_FOR_MS`], one caller (a signed-in user, or an IP) may use at
//!   most half of the planned weight; alone (the server's own requests do
//!   not count), it may use all of it.
//! - **Endpoint groups.** Binance's futures statistics (`/futures/data/*`,
//!   weight 0) share their own limit of 1000 requests per 5 minutes, and
//!   `fundingRate` 500 per 5 minutes; those are counted the same way, over
//!   a sliding 6-minute sum (Binance does not say whether its 5 minutes are
//!   calendar-aligned, and six one-minute buckets bound every 5-minute
//!   stretch either way).
//!
//! A denied request learns when enough frees up; the client waits if that
//! is within 2 s and otherwise answers with a budget error, without
//! touching Binance.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// Fraction of a limit we ever plan to use, in percent: the rest absorbs
/// clock skew against Binance's minute and traffic we cannot see.
pub const PLANNED_SHARE: u32 = 80;
/// How recently another caller must have called for the half-share rule to
/// apply.
pub const ACTIVE_FOR_MS: i64 = 60_000;
/// Callers tracked per host. Beyond it, idle ones are forgotten, and if
/// all are active the newcomers share one entry: memory stays bounded
/// whatever the number of IPs.
const MAX_CALLERS: usize = 4096;
const MINUTE_MS: i64 = 60_000;
/// Minutes a group's sliding sum covers; see the module doc.
const GROUP_SPAN: usize = 6;

/// Who a request is for: a signed-in user, or an IP when nobody is signed
/// in. Opaque to the budget, which only compares keys.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CallerKey(Arc<str>);

impl CallerKey {
    /// A signed-in user, by their OAuth subject.
    pub fn user(subject: &str) -> Self {
        Self(format!("user:{subject}").into())
    }

    /// A caller known only by its IP address.
    pub fn ip(address: &str) -> Self {
        Self(format!("ip:{address}").into())
    }

    /// Requests the server makes for nobody in particular (resources read
    /// without a caller, completions, learning the limit).
    pub fn unattributed() -> Self {
        Self(Arc::from("server"))
    }

    fn overflow() -> Self {
        Self(Arc::from("overflow"))
    }

    /// A short, fixed-length name for the key in a shared store's key
    /// names, which does not spell out the user name or the IP (an IP's
    /// digest can still be guessed: the store is trusted, its key list is
    /// just not a directory of callers).
    pub fn digest(&self) -> String {
        URL_SAFE_NO_PAD.encode(&Sha256::digest(self.0.as_bytes())[..16])
    }
}

impl fmt::Debug for CallerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Which kind only: user names and IPs stay out of logs.
        let kind = self.0.split(':').next().unwrap_or_default();
        write!(f, "CallerKey({kind})")
    }
}

/// Limits that some endpoints count in requests rather than weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Group {
    /// `/futures/data/*`: "IP rate limit 1000 requests/5min".
    FuturesData,
    /// `/fapi/v1/fundingRate`: "share 500/5min/IP rate limit with GET
    /// /fapi/v1/fundingInfo".
    FundingRate,
}

impl Group {
    fn index(self) -> usize {
        match self {
            Self::FuturesData => 0,
            Self::FundingRate => 1,
        }
    }

    fn limit(self) -> u32 {
        match self {
            Self::FuturesData => 1000,
            Self::FundingRate => 500,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::FuturesData => "futures statistics requests per 5 minutes",
            Self::FundingRate => "funding-rate requests per 5 minutes",
        }
    }
}

/// What one request costs: its documented weight, and one request of its
/// group if it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cost {
    pub(crate) weight: u32,
    pub(crate) group: Option<Group>,
}

impl Cost {
    pub(crate) fn weight(weight: u32) -> Self {
        Self {
            weight,
            group: None,
        }
    }

    pub(crate) fn in_group(weight: u32, group: Group) -> Self {
        Self {
            weight,
            group: Some(group),
        }
    }
}

/// Why a request may not be sent yet, and when it may.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Denied {
    /// Unix ms from which the request would fit.
    pub(crate) retry_at_ms: i64,
    /// The caller's half share ran out, not the whole budget.
    pub(crate) share: bool,
    /// The limit that ran out, in words.
    pub(crate) limit: &'static str,
}

/// The budget's state, for `/healthz`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetStatus {
    /// Binance's REQUEST_WEIGHT per minute for this host.
    pub limit: u32,
    /// True once read from `exchangeInfo`; before that, the documented
    /// default.
    pub limit_from_exchange_info: bool,
    /// The most we plan to use in a minute ([`PLANNED_SHARE`] of `limit`).
    pub planned: u32,
    /// Weight used in the current minute, ours or Binance's count if higher.
    pub used: u32,
    /// Callers seen in the last minute.
    pub active_callers: usize,
}

/// Counts per minute over the last [`GROUP_SPAN`] minutes.
#[derive(Debug, Clone, Copy, Default)]
struct Minutes {
    latest: i64,
    counts: [u32; GROUP_SPAN],
}

impl Minutes {
    fn slot(minute: i64) -> usize {
        usize::try_from(minute.rem_euclid(GROUP_SPAN as i64)).unwrap_or(0)
    }

    /// Moves to `minute`, emptying the minutes passed. A clock that steps
    /// back stays in the latest minute rather than double-counting.
    fn roll(&mut self, minute: i64) {
        if minute <= self.latest {
            return;
        }
        if minute - self.latest >= GROUP_SPAN as i64 {
            self.counts = [0; GROUP_SPAN];
        } else {
            for passed in self.latest + 1..=minute {
                self.counts[Self::slot(passed)] = 0;
            }
        }
        self.latest = minute;
    }

    /// The sum over the `span` minutes ending at `at` (≥ `latest`), given
    /// that nothing is added after `latest`.
    fn sum_at(&self, at: i64, span: usize) -> u32 {
        let first = at - span as i64 + 1;
        (first.max(self.latest - GROUP_SPAN as i64 + 1)..=self.latest)
            .map(|minute| self.counts[Self::slot(minute)])
            .sum()
    }

    fn current(&self) -> u32 {
        self.counts[Self::slot(self.latest)]
    }

    fn add(&mut self, amount: u32) {
        let slot = Self::slot(self.latest);
        self.counts[slot] = self.counts[slot].saturating_add(amount);
    }

    /// The first minute after `latest` from which `amount` more fits under
    /// `cap`; `None` if it never does (it exceeds the cap by itself).
    fn frees_at(&self, amount: u32, cap: u32, span: usize) -> Option<i64> {
        if amount > cap {
            return None;
        }
        (self.latest + 1..=self.latest + span as i64)
            .find(|&minute| self.sum_at(minute, span).saturating_add(amount) <= cap)
    }
}

/// One limit: the weight per minute (span 1) or a group (span 6).
#[derive(Debug, Clone, Copy)]
struct Meter {
    limit: u32,
    span: usize,
}

impl Meter {
    fn planned(self) -> u32 {
        self.limit.saturating_mul(PLANNED_SHARE) / 100
    }
}

#[derive(Debug, Default)]
struct Usage {
    weight: Minutes,
    groups: [Minutes; 2],
}

impl Usage {
    fn roll(&mut self, minute: i64) {
        self.weight.roll(minute);
        for group in &mut self.groups {
            group.roll(minute);
        }
    }
}

#[derive(Debug, Default)]
struct CallerUsage {
    usage: Usage,
    last_ms: i64,
}

#[derive(Debug)]
struct State {
    weight_limit: u32,
    learnt: bool,
    total: Usage,
    callers: HashMap<CallerKey, CallerUsage>,
}

/// The budget of one host. Cheap to query; one short lock per request.
#[derive(Debug)]
pub(crate) struct Budget {
    state: Mutex<State>,
}

impl Budget {
    /// A budget assuming `default_limit` until [`Budget::learn`] is told
    /// the real one.
    pub(crate) fn new(default_limit: u32) -> Self {
        Self {
            state: Mutex::new(State {
                weight_limit: default_limit,
                learnt: false,
                total: Usage::default(),
                callers: HashMap::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sets the REQUEST_WEIGHT limit read from `exchangeInfo`.
    pub(crate) fn learn(&self, limit: u32) {
        let mut state = self.lock();
        state.weight_limit = limit;
        state.learnt = true;
    }

    pub(crate) fn learnt(&self) -> bool {
        self.lock().learnt
    }

    /// The most weight planned per minute.
    pub(crate) fn planned(&self) -> u32 {
        Meter {
            limit: self.lock().weight_limit,
            span: 1,
        }
        .planned()
    }

    /// Reserves `cost` for `caller` at `now_ms`, or says when it would fit.
    pub(crate) fn reserve(
        &self,
        caller: &CallerKey,
        cost: Cost,
        now_ms: i64,
    ) -> Result<(), Denied> {
        let minute = now_ms.div_euclid(MINUTE_MS);
        let mut state = self.lock();
        let state = &mut *state;
        state.total.roll(minute);
        // The server's own requests (reading the limit, resources) are no
        // reason to halve a caller who is alone.
        let server = CallerKey::unattributed();
        let others_active = state.callers.iter().any(|(key, usage)| {
            key != caller && *key != server && now_ms - usage.last_ms < ACTIVE_FOR_MS
        });
        let caller = Self::tracked(&mut state.callers, caller, now_ms);
        let usage = state.callers.entry(caller).or_default();
        usage.usage.roll(minute);

        let weight = Meter {
            limit: state.weight_limit,
            span: 1,
        };
        let mut checks = vec![(
            weight,
            &state.total.weight,
            &usage.usage.weight,
            cost.weight,
            "request weight per minute",
        )];
        if let Some(group) = cost.group {
            let meter = Meter {
                limit: group.limit(),
                span: GROUP_SPAN,
            };
            let i = group.index();
            checks.push((
                meter,
                &state.total.groups[i],
                &usage.usage.groups[i],
                1,
                group.describe(),
            ));
        }
        for (meter, total, own, amount, limit) in checks {
            if amount == 0 {
                continue;
            }
            let planned = meter.planned();
            // A cost above the cap by itself never fits: "next minute"
            // then, and the retry fails the same way with the same advice.
            let next = minute + 1;
            if total.sum_at(minute, meter.span).saturating_add(amount) > planned {
                let at = total.frees_at(amount, planned, meter.span).unwrap_or(next);
                return Err(denied(at, false, limit));
            }
            let share = planned / 2;
            if others_active && own.sum_at(minute, meter.span).saturating_add(amount) > share {
                let at = own.frees_at(amount, share, meter.span).unwrap_or(next);
                return Err(denied(at, true, limit));
            }
        }

        state.total.weight.add(cost.weight);
        usage.usage.weight.add(cost.weight);
        if let Some(group) = cost.group {
            state.total.groups[group.index()].add(1);
            usage.usage.groups[group.index()].add(1);
        }
        usage.last_ms = now_ms;
        Ok(())
    }

    /// The key to charge: `caller`, unless the map is full of active
    /// callers, in which case newcomers share the overflow entry.
    fn tracked(
        callers: &mut HashMap<CallerKey, CallerUsage>,
        caller: &CallerKey,
        now_ms: i64,
    ) -> CallerKey {
        if callers.contains_key(caller) || callers.len() < MAX_CALLERS {
            return caller.clone();
        }
        // Idle for the whole group span: every window of theirs is empty.
        let forget_before = now_ms - GROUP_SPAN as i64 * MINUTE_MS;
        callers.retain(|_, usage| usage.last_ms >= forget_before);
        if callers.len() < MAX_CALLERS {
            caller.clone()
        } else {
            CallerKey::overflow()
        }
    }

    /// Takes Binance's count of this minute's weight when it is higher.
    pub(crate) fn resync(&self, used: u32, now_ms: i64) {
        let mut state = self.lock();
        state.total.roll(now_ms.div_euclid(MINUTE_MS));
        let ours = state.total.weight.current();
        if used > ours {
            state.total.weight.add(used - ours);
        }
    }

    pub(crate) fn status(&self, now_ms: i64) -> BudgetStatus {
        let mut state = self.lock();
        state.total.roll(now_ms.div_euclid(MINUTE_MS));
        let meter = Meter {
            limit: state.weight_limit,
            span: 1,
        };
        BudgetStatus {
            limit: state.weight_limit,
            limit_from_exchange_info: state.learnt,
            planned: meter.planned(),
            used: state.total.weight.current(),
            active_callers: state
                .callers
                .values()
                .filter(|usage| now_ms - usage.last_ms < ACTIVE_FOR_MS)
                .count(),
        }
    }
}

fn denied(minute: i64, share: bool, limit: &'static str) -> Denied {
    Denied {
        retry_at_ms: minute.saturating_mul(MINUTE_MS),
        share,
        limit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 12:00:00 on some day, a minute boundary.
    const T0: i64 = 1_738_368_000_000;

    fn key(name: &str) -> CallerKey {
        CallerKey::ip(name)
    }

    #[test]
    fn planning_stops_at_80_percent_until_the_minute_turns() {
        let budget = Budget::new(100);
        let alone = key("a");
        for _ in 0..40 {
            budget.reserve(&alone, Cost::weight(2), T0 + 1_000).unwrap();
        }
        let denied = budget
            .reserve(&alone, Cost::weight(2), T0 + 2_000)
            .unwrap_err();
        assert_eq!(denied.retry_at_ms, T0 + MINUTE_MS);
        assert!(!denied.share, "alone, the caller may use it all");
        assert_eq!(budget.status(T0 + 2_000).used, 80);
        budget
            .reserve(&alone, Cost::weight(2), T0 + MINUTE_MS)
            .unwrap();
        assert_eq!(budget.status(T0 + MINUTE_MS).used, 2);
    }

    #[test]
    fn one_caller_gets_half_while_others_are_active() {
        let budget = Budget::new(100);
        let (busy, other) = (key("busy"), key("other"));
        budget.reserve(&other, Cost::weight(1), T0).unwrap();
        for _ in 0..40 {
            budget.reserve(&busy, Cost::weight(1), T0 + 10).unwrap();
        }
        let denied = budget.reserve(&busy, Cost::weight(1), T0 + 20).unwrap_err();
        assert!(denied.share);
        assert_eq!(denied.retry_at_ms, T0 + MINUTE_MS);
        // The other caller still has room.
        budget.reserve(&other, Cost::weight(30), T0 + 30).unwrap();
        // Once the other has been quiet for a minute, the rest is the busy
        // caller's again.
        let later = T0 + MINUTE_MS + ACTIVE_FOR_MS;
        for _ in 0..80 {
            budget.reserve(&busy, Cost::weight(1), later).unwrap();
        }
    }

    #[test]
    fn the_servers_own_requests_do_not_halve_a_lone_caller() {
        // Planned 160, half 80.
        let budget = Budget::new(200);
        let server = CallerKey::unattributed();
        budget.reserve(&server, Cost::weight(20), T0).unwrap();
        budget
            .reserve(&key("alone"), Cost::weight(140), T0)
            .unwrap();
        // The server itself is held to half while a caller is active.
        let budget = Budget::new(200);
        budget.reserve(&key("caller"), Cost::weight(1), T0).unwrap();
        let denied = budget.reserve(&server, Cost::weight(81), T0).unwrap_err();
        assert!(denied.share);
    }

    #[test]
    fn binance_count_replaces_ours_only_when_higher() {
        let budget = Budget::new(1000);
        budget.reserve(&key("a"), Cost::weight(20), T0).unwrap();
        budget.resync(5, T0 + 10);
        assert_eq!(budget.status(T0 + 10).used, 20);
        budget.resync(700, T0 + 20);
        assert_eq!(budget.status(T0 + 20).used, 700);
        let denied = budget
            .reserve(&key("a"), Cost::weight(150), T0 + 30)
            .unwrap_err();
        assert_eq!(denied.retry_at_ms, T0 + MINUTE_MS);
        // A count from the minute before does not leak into this one.
        assert_eq!(budget.status(T0 + MINUTE_MS).used, 0);
    }

    #[test]
    fn groups_count_requests_over_six_sliding_minutes() {
        let budget = Budget::new(6000);
        let caller = key("a");
        let cost = Cost::in_group(0, Group::FuturesData);
        // 133 a minute for six minutes, two more in the last: 800, the
        // planned 80 % of 1000, all within one sliding window.
        for minute in 0..6 {
            let extra = if minute == 5 { 2 } else { 0 };
            for _ in 0..133 + extra {
                budget
                    .reserve(&caller, cost, T0 + minute * MINUTE_MS)
                    .unwrap();
            }
        }
        let now = T0 + 5 * MINUTE_MS;
        let denied = budget.reserve(&caller, cost, now).unwrap_err();
        assert_eq!(denied.limit, "futures statistics requests per 5 minutes");
        // The first minute's requests drop out of the sum a minute later.
        assert_eq!(denied.retry_at_ms, T0 + 6 * MINUTE_MS);
        budget.reserve(&caller, cost, T0 + 6 * MINUTE_MS).unwrap();
        assert_eq!(budget.status(now).used, 0, "no weight, only requests");
    }

    #[test]
    fn a_cost_above_the_cap_is_denied_until_the_next_minute() {
        let budget = Budget::new(10);
        let denied = budget.reserve(&key("a"), Cost::weight(9), T0).unwrap_err();
        assert_eq!(denied.retry_at_ms, T0 + MINUTE_MS);
    }

    #[test]
    fn the_caller_map_stays_bounded() {
        let budget = Budget::new(u32::MAX / 100);
        for i in 0..MAX_CALLERS + 50 {
            budget
                .reserve(&key(&i.to_string()), Cost::weight(1), T0)
                .unwrap();
        }
        assert_eq!(
            budget.lock().callers.len(),
            MAX_CALLERS + 1,
            "plus overflow"
        );
        // Six minutes later the idle ones are forgotten to make room.
        budget
            .reserve(&key("new"), Cost::weight(1), T0 + 7 * MINUTE_MS)
            .unwrap();
        assert!(budget.lock().callers.len() < 10);
    }

    #[test]
    fn caller_keys_keep_names_out_of_debug_output() {
        assert_eq!(format!("{:?}", CallerKey::user("alice")), "CallerKey(user)");
        assert_eq!(format!("{:?}", CallerKey::ip("10.0.0.1")), "CallerKey(ip)");
        assert_ne!(CallerKey::user("a"), CallerKey::ip("a"));
    }
}
