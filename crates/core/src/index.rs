//! Index naming: a prefix plus a rotation suffix from the event's own time in UTC, and the window
//! around now that time must fall in, so that no record can create an index years away.

use chrono::{DateTime, Datelike, TimeDelta, Utc};

use crate::config::{ConfigError, Env, FromEnv};
use crate::error::RecordError;
use crate::RecordKind;

/// How far from now an event's own time may be for it to name an index. A record outside is not
/// indexed: it goes to the dead-letter index (whose name comes from the time of processing) with
/// the reason `time_out_of_range`. Anyone who can write to a log group or a delivery stream can
/// put any time in a record; without this, each distinct day would create an index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWindow {
    /// How far ahead of now (clock skew, time zones written wrong); `None`: no limit.
    pub ahead: Option<TimeDelta>,
    /// How far behind now (late delivery, replays); `None`: no limit.
    pub behind: Option<TimeDelta>,
}

impl Default for TimeWindow {
    /// 7 days ahead, 400 days back: a year of late delivery and a month of margin.
    fn default() -> Self {
        Self { ahead: Some(TimeDelta::days(7)), behind: Some(TimeDelta::days(400)) }
    }
}

impl TimeWindow {
    /// No limit either way (a backfill of old logs, the recorded fixtures).
    pub const ANY: Self = Self { ahead: None, behind: None };

    /// Whether `time` may name an index when it is `now`.
    ///
    /// # Errors
    /// `time_out_of_range`, saying which way and by how much.
    pub fn check(&self, time: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), RecordError> {
        let out = |side: &str, limit: TimeDelta| {
            RecordError::new(
                RecordKind::TimeOutOfRange,
                format!(
                    "the event time {} is more than {} days {side} the time of processing",
                    time.to_rfc3339(),
                    limit.num_days()
                ),
            )
        };
        match (self.ahead, self.behind) {
            (Some(ahead), _) if time > now + ahead => Err(out("ahead of", ahead)),
            (_, Some(behind)) if time < now - behind => Err(out("behind", behind)),
            _ => Ok(()),
        }
    }
}

impl FromEnv for TimeWindow {
    /// `MAX_EVENT_LEAD_DAYS` (default 7) and `MAX_EVENT_AGE_DAYS` (default 400): whole days, or
    /// `none` for no limit on that side.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for anything else.
    fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let days = |var: &'static str, default: Option<TimeDelta>| match env.get(var) {
            None => Ok(default),
            Some(v) if v.trim().eq_ignore_ascii_case("none") => Ok(None),
            Some(v) => v.trim().parse::<u16>().map(|d| Some(TimeDelta::days(i64::from(d)))).map_err(|_| {
                ConfigError::Invalid { var, reason: format!("`{}` is not whole days (0-65535) or `none`", v.trim()) }
            }),
        };
        let default = Self::default();
        Ok(Self {
            ahead: days("MAX_EVENT_LEAD_DAYS", default.ahead)?,
            behind: days("MAX_EVENT_AGE_DAYS", default.behind)?,
        })
    }
}

/// How often a new index starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// `prefix-YYYY.MM.DD`
    Daily,
    /// `prefix-YYYY.MM`
    Monthly,
    /// `prefix`
    None,
}

impl std::str::FromStr for Rotation {
    type Err = crate::config::NotOneOf;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "daily" => Ok(Self::Daily),
            "monthly" => Ok(Self::Monthly),
            "none" => Ok(Self::None),
            other => Err(crate::config::NotOneOf::new(other, "daily, monthly, none")),
        }
    }
}

/// Whether `prefix` is a family name seclog may build in: 1 to 200 bytes of ASCII lowercase
/// letters, digits, `-`, `_` and `.`, not starting with `-`, `_` or `+` (a stricter form of the
/// rules of [`IndexPattern::new`]). `const`, so [`crate::family!`] checks its names when compiled.
#[must_use]
pub const fn is_builtin_prefix(prefix: &str) -> bool {
    let bytes = prefix.as_bytes();
    if bytes.is_empty() || bytes.len() > 200 || matches!(bytes[0], b'-' | b'_' | b'+') {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if !matches!(bytes[i], b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.') {
            return false;
        }
        i += 1;
    }
    true
}

/// The [`IndexPattern`] of one of seclog's own family names, checked when compiled (a name that
/// is not valid does not build), so building it cannot fail:
/// `family!("cloudtrail", Rotation::Daily)`.
///
/// ```
/// use seclog_core::index::Rotation;
/// assert_eq!(seclog_core::family!("cloudtrail", Rotation::Daily).prefix(), "cloudtrail");
/// ```
///
/// ```compile_fail
/// // Uppercase and a space: not an index name, so this does not build.
/// let _ = seclog_core::family!("Cloud Trail", seclog_core::index::Rotation::Daily);
/// ```
#[macro_export]
macro_rules! family {
    ($prefix:expr, $rotation:expr) => {{
        const _: () = assert!($crate::index::is_builtin_prefix($prefix), "not a valid index family name");
        $crate::index::IndexPattern::checked($prefix, $rotation)
    }};
}

/// A validated index prefix with its rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexPattern {
    prefix: String,
    rotation: Rotation,
    window: TimeWindow,
}

/// Why a name cannot start an index name (`OpenSearch`'s rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IndexNameError {
    /// Empty, or longer than 200 bytes.
    #[error("must be 1 to 200 bytes long")]
    Length,
    /// Starts with `-`, `_` or `+`.
    #[error("must not start with `-`, `_` or `+`")]
    Start,
    /// Holds a character index names cannot.
    #[error("must not contain `{0}` (lowercase, no spaces or \\ / * ? \" < > | , # :)")]
    Character(char),
}

impl IndexPattern {
    /// One of seclog's own family names, already checked when compiled: use [`crate::family!`].
    #[doc(hidden)]
    #[must_use]
    pub fn checked(prefix: &'static str, rotation: Rotation) -> Self {
        Self { prefix: prefix.to_owned(), rotation, window: TimeWindow::ANY }
    }

    /// Validates the prefix against `OpenSearch`'s index name rules (lowercase; no spaces or
    /// `\ / * ? " < > | , # :`; not starting with `-`, `_` or `+`; at most 200 bytes).
    ///
    /// # Errors
    /// What is wrong with the prefix.
    pub fn new(prefix: &str, rotation: Rotation) -> Result<Self, IndexNameError> {
        if prefix.is_empty() || prefix.len() > 200 {
            return Err(IndexNameError::Length);
        }
        if prefix.starts_with(['-', '_', '+']) {
            return Err(IndexNameError::Start);
        }
        if let Some(c) = prefix.chars().find(|c| c.is_uppercase() || c.is_whitespace() || r#"\/*?"<>|,#:"#.contains(*c))
        {
            return Err(IndexNameError::Character(c));
        }
        Ok(Self { prefix: prefix.to_owned(), rotation, window: TimeWindow::ANY })
    }

    /// The family a function's `var` names (`default` when unset), validated as [`Self::new`]
    /// does, and naming indices only within the deployed [`TimeWindow`] (`MAX_EVENT_LEAD_DAYS`,
    /// `MAX_EVENT_AGE_DAYS`).
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming `var` (or the window's variable) and what is wrong.
    pub fn from_env(env: &Env<'_>, var: &'static str, default: &str, rotation: Rotation) -> Result<Self, ConfigError> {
        let prefix = env.get(var).unwrap_or_else(|| default.into());
        let pattern = Self::new(prefix.trim(), rotation)
            .map_err(|reason| ConfigError::Invalid { var, reason: reason.to_string() })?;
        Ok(pattern.within(TimeWindow::from_env(env)?))
    }

    /// The same pattern, naming indices only for event times within `window` of now (a pattern
    /// starts with [`TimeWindow::ANY`]; the functions' configuration sets the deployed window).
    #[must_use]
    pub fn within(self, window: TimeWindow) -> Self {
        Self { window, ..self }
    }

    /// The index for an event at `time`, when `time` is within the pattern's window of now.
    ///
    /// # Errors
    /// `time_out_of_range` (see [`TimeWindow::check`]).
    pub fn index_for(&self, time: DateTime<Utc>) -> Result<String, RecordError> {
        if self.window != TimeWindow::ANY {
            self.window.check(time, Utc::now())?;
        }
        Ok(self.name_for(time))
    }

    /// The window event times must fall in.
    #[must_use]
    pub fn window(&self) -> TimeWindow {
        self.window
    }

    /// The index for an event at `time`, whatever the window (the dead-letter index, named from
    /// the time of processing).
    #[must_use]
    pub fn name_for(&self, time: DateTime<Utc>) -> String {
        let (y, m, d) = (time.year(), time.month(), time.day());
        let Ok(year @ 0..=9999) = u32::try_from(y) else {
            // Outside four digits (only without a window): formatted, as rarely as it happens.
            return match self.rotation {
                Rotation::Daily => format!("{}-{y:04}.{m:02}.{d:02}", self.prefix),
                Rotation::Monthly => format!("{}-{y:04}.{m:02}", self.prefix),
                Rotation::None => self.prefix.clone(),
            };
        };
        // Every document names its index: digits pushed as they are, without `format!`'s
        // machinery (chrono's `format` would also parse its pattern on every call).
        let mut name = String::with_capacity(self.prefix.len() + 11);
        name.push_str(&self.prefix);
        if self.rotation != Rotation::None {
            push_padded(&mut name, '-', year, 4);
            push_padded(&mut name, '.', m, 2);
        }
        if self.rotation == Rotation::Daily {
            push_padded(&mut name, '.', d, 2);
        }
        name
    }

    /// The prefix.
    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.prefix
    }
}

/// `separator`, then `n` zero-padded to `width` digits (`n` has at most `width`).
fn push_padded(name: &mut String, separator: char, n: u32, width: u32) {
    name.push(separator);
    for place in (0..width).rev() {
        name.push(char::from(b'0' + u8::try_from(n / 10_u32.pow(place) % 10).unwrap_or(0)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn a_family_from_the_environment_is_checked_and_keeps_to_the_deployed_window() {
        let read =
            |pairs: &[(&str, &str)]| IndexPattern::from_env(&Env::from_pairs(pairs), "P", "logs", Rotation::Daily);
        let default = read(&[]).unwrap();
        assert_eq!((default.prefix(), default.window()), ("logs", TimeWindow::default()));
        let set = read(&[("P", " audit "), ("MAX_EVENT_AGE_DAYS", "none")]).unwrap();
        assert_eq!((set.prefix(), set.window().behind), ("audit", None));
        let err = read(&[("P", "Bad Name")]).unwrap_err().to_string();
        assert!(err.starts_with("P is invalid: must not contain `B`"), "{err}");
        assert!(matches!(
            read(&[("MAX_EVENT_LEAD_DAYS", "soon")]),
            Err(ConfigError::Invalid { var: "MAX_EVENT_LEAD_DAYS", .. })
        ));
    }

    #[test]
    fn rotations_use_utc() {
        let time = t("2023-12-31T23:30:00-02:00"); // 2024-01-01T01:30Z
        let name = |r| IndexPattern::new("ct", r).unwrap().name_for(time);
        assert_eq!(name(Rotation::Daily), "ct-2024.01.01");
        assert_eq!(name(Rotation::Monthly), "ct-2024.01");
        assert_eq!(name(Rotation::None), "ct");
    }

    #[test]
    fn names_are_the_zero_padded_date_for_every_year_a_time_can_hold() {
        let pattern = |r| IndexPattern::new("vpcflow", r).unwrap();
        let years = [-262_143, -1, 0, 7, 99, 999, 1970, 2026, 9999, 10_000, 262_142];
        for (year, month, day) in years.into_iter().flat_map(|y| [(y, 1, 1), (y, 2, 28), (y, 9, 9), (y, 12, 31)]) {
            let time =
                chrono::NaiveDate::from_ymd_opt(year, month, day).unwrap().and_hms_opt(23, 59, 59).unwrap().and_utc();
            let daily = format!("vpcflow-{year:04}.{month:02}.{day:02}");
            assert_eq!(pattern(Rotation::Daily).name_for(time), daily);
            assert_eq!(pattern(Rotation::Monthly).name_for(time), format!("vpcflow-{year:04}.{month:02}"));
            assert_eq!(pattern(Rotation::None).name_for(time), "vpcflow");
        }
    }

    #[test]
    fn bad_prefixes_are_refused() {
        for bad in ["", "Upper", "a b", "a*b", "_x", "-x", "a:b"] {
            assert!(IndexPattern::new(bad, Rotation::Daily).is_err(), "{bad}");
        }
    }

    #[test]
    fn event_times_outside_the_window_name_no_index() {
        let now = t("2026-12-02T12:00:00Z");
        let window = TimeWindow::default();
        for inside in ["2026-12-09T11:59:59Z", "2026-12-02T12:00:00Z", "2025-10-28T12:00:00Z"] {
            assert_eq!(window.check(t(inside), now), Ok(()), "{inside}");
        }
        for (outside, says) in [
            ("2026-12-09T12:00:01Z", "more than 7 days ahead of"),
            ("2099-01-01T00:00:00Z", "more than 7 days ahead of"),
            ("2025-10-28T11:59:59Z", "more than 400 days behind"),
            ("1970-01-01T00:00:00Z", "more than 400 days behind"),
        ] {
            let err = window.check(t(outside), now).unwrap_err();
            assert_eq!(err.kind, "time_out_of_range", "{outside}");
            assert!(err.reason.contains(says), "{}", err.reason);
        }
        assert_eq!(TimeWindow::ANY.check(t("1970-01-01T00:00:00Z"), now), Ok(()));
        let open_back = TimeWindow { behind: None, ..window };
        assert!(open_back.check(t("2001-01-01T00:00:00Z"), now).is_ok());
        assert!(open_back.check(t("2027-01-01T00:00:00Z"), now).is_err());
    }

    #[test]
    fn built_in_names_are_valid_names() {
        for name in ["cloudtrail", "route53-resolver", "route53-public", "seclog-alerts", "waf", "vpcflow"] {
            assert!(is_builtin_prefix(name), "{name}");
            assert!(IndexPattern::new(name, Rotation::Daily).is_ok(), "{name}");
        }
        for bad in ["", "Cloudtrail", "-x", "_x", "+x", "a b", "a*b", "a:b"] {
            assert!(!is_builtin_prefix(bad), "{bad}");
        }
        assert!(!is_builtin_prefix(&"a".repeat(201)));
        assert_eq!(crate::family!("cloudtrail", Rotation::Monthly).prefix(), "cloudtrail");
    }

    #[test]
    fn a_pattern_checks_its_window_against_the_clock() {
        let pattern = IndexPattern::new("ct", Rotation::Daily).unwrap();
        let year_2000 = t("2000-01-01T00:00:00Z");
        assert_eq!(pattern.index_for(year_2000).unwrap(), "ct-2000.01.01", "no window until one is set");
        let pattern = pattern.within(TimeWindow::default());
        assert_eq!(pattern.index_for(year_2000).unwrap_err().kind, "time_out_of_range");
        assert!(pattern.index_for(Utc::now()).is_ok());
        assert_eq!(pattern.name_for(year_2000), "ct-2000.01.01");
    }

    #[test]
    fn the_window_is_configured_in_days_or_none() {
        let read = TimeWindow::from_pairs;
        assert_eq!(read(&[]).unwrap(), TimeWindow::default());
        let w = read(&[("MAX_EVENT_AGE_DAYS", "none"), ("MAX_EVENT_LEAD_DAYS", "1")]).unwrap();
        assert_eq!(w, TimeWindow { ahead: Some(TimeDelta::days(1)), behind: None });
        for bad in ["-1", "7d", "1.5", "99999"] {
            let err = read(&[("MAX_EVENT_AGE_DAYS", bad)]).unwrap_err();
            assert!(matches!(err, ConfigError::Invalid { var: "MAX_EVENT_AGE_DAYS", .. }), "{bad}: {err}");
        }
    }

    #[test]
    fn rotation_parses() {
        assert_eq!("Monthly".parse::<Rotation>().unwrap(), Rotation::Monthly);
        assert!("weekly".parse::<Rotation>().is_err());
    }
}
