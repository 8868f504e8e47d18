//! The alerter's configuration, read once at cold start.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `ALERTS_PREFIX` | `seclog` | alerts go to `<prefix>-alerts-YYYY.MM` (the month of the event that caused them) |
//! | `DETECTION_INDICES` | `cloudtrail-*,route53-resolver-*,route53-public-*` | where the ingest functions write the documents rules mark |
//! | `LOOKBACK` | `30m` | how far back each run looks, by event time (longer than Firehose's 15-minute buffering, and overlapping the previous run); at most 366 days |
//! | `ALERT_MIN_LEVEL` | `medium` | a rule match below this level is kept on its document but raises no alert |
//! | `MAX_ALERTS_PER_RULE` | `100` | alerts one rule may raise in one run; past it, one summary alert |
//! | `NOTIFY_MIN_LEVEL` | `high` | alerts at or above this level are sent |
//! | `NOTIFY_MAX_PER_RUN` | `50` | messages one run may send; past it, one summary message |
//! | `SLACK_WEBHOOK_SECRET_ARN` | unset | a Secrets Manager secret holding the Slack incoming webhook's URL (read at cold start; empty: no Slack) |
//! | `SLACK_WEBHOOK_URL` | unset | the webhook's URL itself (for `seclog detect run`; deployed functions use the secret) |
//! | `ALERTS_TOPIC_ARN` | unset | an SNS topic that gets each alert (e-mail, chat, pager subscriptions) |
//! | `WEBHOOK_URL` | unset | any HTTP endpoint that takes the alert as JSON |
//! | `DASHBOARDS_URL` | unset | OpenSearch Dashboards, for a link to the event in each message |
//! | `FIRST_SEEN` | `on` | `off` skips the first-seen rules (a country new for a user's console sign-ins, a network new for a principal's API calls) |
//! | `FIRST_SEEN_WITHOUT_HISTORY` | `false` | `true` alerts on a user or principal with no history in the 30-day baseline |
//! | `FINDINGS_INDICES` | `securityhub-*` | where the securityhub function writes findings |
//! | `FINDINGS_MIN_SEVERITY` | `HIGH` | findings at or above this severity label raise an alert, new or raised |
//!
//! plus the rules' variables ([`seclog_rules::config`]) and the `OpenSearch` variables
//! ([`seclog_core::sink::opensearch::config`]). Webhook URLs are secrets: no log line or error
//! repeats them.

use std::time::Duration;

use seclog_core::config::{ConfigError, Env, FromEnv, NotOneOf};
use seclog_rules::Level;
use url::Url;

/// The alerter's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetectConfig {
    /// `<prefix>-alerts-YYYY.MM`.
    pub alerts_prefix: String,
    /// The index patterns rules' matches are searched in, comma-separated.
    pub indices: String,
    /// How far back each run looks.
    pub lookback: Duration,
    /// The lowest level that raises an alert.
    pub alert_min_level: Level,
    /// Alerts one rule may raise in one run.
    pub max_alerts_per_rule: usize,
    /// The lowest level that is sent.
    pub notify_min_level: Level,
    /// Messages one run may send.
    pub notify_max_per_run: usize,
    /// The Secrets Manager secret that holds the Slack webhook's URL, read at cold start into
    /// [`Destinations::slack`] when that is not set.
    pub slack_secret_arn: Option<String>,
    /// Where messages go.
    pub destinations: Destinations,
    /// OpenSearch Dashboards, for a link to the event in each Slack message.
    pub dashboards: Option<Url>,
    /// Whether the first-seen rules run.
    pub first_seen: bool,
    /// Whether an entity with no history alerts on first-seen values.
    pub first_seen_without_history: bool,
    /// Where findings are.
    pub findings_indices: String,
    /// The lowest severity label that raises a finding alert.
    pub findings_min_severity: String,
}

/// Where messages go; none configured sends nothing (alerts are still raised).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Destinations {
    /// A Slack incoming webhook.
    pub slack: Option<Url>,
    /// An SNS topic.
    pub sns_topic_arn: Option<String>,
    /// A generic JSON webhook.
    pub webhook: Option<Url>,
}

impl std::fmt::Debug for Destinations {
    /// Says which destinations are set, never their URLs (a webhook URL is its own credential).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Destinations")
            .field("slack", &self.slack.is_some())
            .field("sns_topic_arn", &self.sns_topic_arn)
            .field("webhook", &self.webhook.is_some())
            .finish()
    }
}

impl Default for DetectConfig {
    fn default() -> Self {
        Self {
            alerts_prefix: "seclog".into(),
            indices: "cloudtrail-*,route53-resolver-*,route53-public-*".into(),
            lookback: Duration::from_secs(30 * 60),
            alert_min_level: Level::Medium,
            max_alerts_per_rule: 100,
            notify_min_level: Level::High,
            notify_max_per_run: 50,
            slack_secret_arn: None,
            destinations: Destinations::default(),
            dashboards: None,
            first_seen: true,
            first_seen_without_history: false,
            findings_indices: "securityhub-*".into(),
            findings_min_severity: "HIGH".into(),
        }
    }
}

impl DetectConfig {
    /// The alerts index of an event at `time`.
    #[must_use]
    pub fn alerts_index(&self, time: chrono::DateTime<chrono::Utc>) -> String {
        format!("{}-alerts-{}", self.alerts_prefix, time.format("%Y.%m"))
    }

    /// The CloudTrail index patterns among [`Self::indices`] (the first-seen rules read only them).
    #[must_use]
    pub fn cloudtrail_indices(&self) -> String {
        let list: Vec<&str> = self.indices.split(',').map(str::trim).filter(|p| p.starts_with("cloudtrail")).collect();
        if list.is_empty() {
            "cloudtrail-*".to_owned()
        } else {
            list.join(",")
        }
    }

    /// Every alerts index.
    #[must_use]
    pub fn alerts_pattern(&self) -> String {
        format!("{}-alerts-*", self.alerts_prefix)
    }
}

impl FromEnv for DetectConfig {
    /// Reads the settings.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the variable; a URL's value is never repeated.
    fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let d = Self::default();
        let alerts_prefix = env.get("ALERTS_PREFIX").map_or(d.alerts_prefix, |p| p.trim().to_owned());
        seclog_core::index::IndexPattern::new(
            &format!("{alerts_prefix}-alerts"),
            seclog_core::index::Rotation::Monthly,
        )
        .map_err(|reason| ConfigError::Invalid { var: "ALERTS_PREFIX", reason: reason.to_string() })?;
        Ok(Self {
            alerts_prefix,
            indices: env.get("DETECTION_INDICES").unwrap_or(d.indices),
            lookback: match env.get("LOOKBACK") {
                Some(v) => {
                    parse_duration(&v).map_err(|e| ConfigError::Invalid { var: "LOOKBACK", reason: e.to_string() })?
                }
                None => d.lookback,
            },
            alert_min_level: level(env, "ALERT_MIN_LEVEL", d.alert_min_level)?,
            max_alerts_per_rule: env.parse_or("MAX_ALERTS_PER_RULE", d.max_alerts_per_rule)?,
            notify_min_level: level(env, "NOTIFY_MIN_LEVEL", d.notify_min_level)?,
            notify_max_per_run: env.parse_or("NOTIFY_MAX_PER_RUN", d.notify_max_per_run)?,
            slack_secret_arn: arn(env, "SLACK_WEBHOOK_SECRET_ARN"),
            destinations: Destinations {
                slack: url(env, "SLACK_WEBHOOK_URL")?,
                sns_topic_arn: arn(env, "ALERTS_TOPIC_ARN"),
                webhook: url(env, "WEBHOOK_URL")?,
            },
            dashboards: url(env, "DASHBOARDS_URL")?,
            first_seen: env.on_off("FIRST_SEEN")?,
            first_seen_without_history: env.bool_or("FIRST_SEEN_WITHOUT_HISTORY", d.first_seen_without_history)?,
            findings_indices: env.get("FINDINGS_INDICES").unwrap_or(d.findings_indices),
            findings_min_severity: match env.get("FINDINGS_MIN_SEVERITY") {
                None => d.findings_min_severity,
                Some(v)
                    if ["INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"]
                        .contains(&v.trim().to_ascii_uppercase().as_str()) =>
                {
                    v.trim().to_ascii_uppercase()
                }
                Some(v) => {
                    return Err(ConfigError::Invalid {
                        var: "FINDINGS_MIN_SEVERITY",
                        reason: NotOneOf::new(v, "INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL").to_string(),
                    })
                }
            },
        })
    }
}

fn level(env: &Env<'_>, var: &'static str, default: Level) -> Result<Level, ConfigError> {
    match env.get(var) {
        None => Ok(default),
        Some(v) => parse_level(&v).ok_or_else(|| ConfigError::Invalid {
            var,
            reason: NotOneOf::new(v, "informational, low, medium, high, critical").to_string(),
        }),
    }
}

/// A Sigma level by its name.
#[must_use]
pub fn parse_level(name: &str) -> Option<Level> {
    [Level::Informational, Level::Low, Level::Medium, Level::High, Level::Critical]
        .into_iter()
        .find(|l| l.as_str().eq_ignore_ascii_case(name.trim()))
}

/// An ARN, trimmed; unset or empty: none.
fn arn(env: &Env<'_>, var: &str) -> Option<String> {
    env.get(var).map(|a| a.trim().to_owned()).filter(|a| !a.is_empty())
}

fn url(env: &Env<'_>, var: &'static str) -> Result<Option<Url>, ConfigError> {
    let Some(value) = env.get(var).filter(|v| !v.trim().is_empty()) else { return Ok(None) };
    webhook_url(&value).map(Some).map_err(|e| ConfigError::Invalid { var, reason: e.to_string() })
}

/// Why a webhook URL cannot be used (the value itself is never repeated: it may hold a token).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// Not a URL.
    #[error("not a URL ({0}); the value is not repeated")]
    NotAUrl(url::ParseError),
    /// Not `https` (or `http`).
    #[error("must be an https URL (http only for local receivers)")]
    Scheme,
}

/// A webhook URL: `https` (or `http`, for a local receiver).
///
/// # Errors
/// Why it cannot be used.
pub fn webhook_url(value: &str) -> Result<Url, WebhookError> {
    let parsed = Url::parse(value.trim()).map_err(WebhookError::NotAUrl)?;
    if !matches!(parsed.scheme(), "https" | "http") {
        return Err(WebhookError::Scheme);
    }
    Ok(parsed)
}

/// The longest window a run may look back.
pub const MAX_LOOKBACK: Duration = Duration::from_secs(366 * 86_400);

/// Why a duration cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Not a number and one of `s`, `m`, `h`, `d`.
    #[error("`{0}` is not a duration like 30m, 2h, 90s")]
    NotADuration(String),
    /// Zero.
    #[error("must be longer than zero")]
    Zero,
    /// Longer than [`MAX_LOOKBACK`].
    #[error("`{0}` is longer than 366 days")]
    TooLong(String),
}

/// `30m`, `2h`, `90s`, `1d`: at most [`MAX_LOOKBACK`].
///
/// # Errors
/// The value, quoted, when it is none of those.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let not_a_duration = || DurationError::NotADuration(text.to_owned());
    let n: u64 = number.parse().map_err(|_| not_a_duration())?;
    let unit_seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(not_a_duration()),
    };
    let seconds = n.checked_mul(unit_seconds).filter(|&s| s <= MAX_LOOKBACK.as_secs());
    match seconds {
        None => Err(DurationError::TooLong(text.to_owned())),
        Some(0) => Err(DurationError::Zero),
        Some(s) => Ok(Duration::from_secs(s)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lookback_longer_than_a_year_is_refused_not_overflowed() {
        assert_eq!(parse_duration("366d"), Ok(Duration::from_secs(366 * 86_400)));
        for huge in ["367d", "100000000d", "999999999999999d", "18446744073709551615s"] {
            assert!(parse_duration(huge).is_err(), "{huge}");
            assert!(DetectConfig::from_pairs(&[("LOOKBACK", huge)]).is_err(), "{huge}");
        }
    }

    #[test]
    fn defaults_durations_and_levels() {
        assert_eq!(DetectConfig::from_pairs(&[]).unwrap(), DetectConfig::default());
        let c =
            DetectConfig::from_pairs(&[("LOOKBACK", "2h"), ("NOTIFY_MIN_LEVEL", "Medium"), ("ALERTS_PREFIX", "sec")])
                .unwrap();
        assert_eq!((c.lookback, c.notify_min_level), (Duration::from_secs(7200), Level::Medium));
        assert_eq!(c.alerts_pattern(), "sec-alerts-*");
        let t = chrono::DateTime::parse_from_rfc3339("2026-12-01T09:00:00Z").unwrap().to_utc();
        assert_eq!(c.alerts_index(t), "sec-alerts-2026.12");
        assert_eq!(
            DetectConfig::from_pairs(&[("LOOKBACK", "soon")]).unwrap_err().to_string(),
            "LOOKBACK is invalid: `soon` is not a duration like 30m, 2h, 90s"
        );
        assert!(DetectConfig::from_pairs(&[("NOTIFY_MIN_LEVEL", "urgent")]).is_err());
    }

    #[test]
    fn the_slack_secret_and_the_dashboards_link_are_settings_not_destinations() {
        let arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:seclog/slack-AbCdEf";
        let c = DetectConfig::from_pairs(&[
            ("SLACK_WEBHOOK_SECRET_ARN", &format!(" {arn} ")),
            ("DASHBOARDS_URL", "https://search.example.com/_dashboards"),
            ("ALERTS_TOPIC_ARN", " "),
        ])
        .unwrap();
        assert_eq!(c.slack_secret_arn.as_deref(), Some(arn));
        assert_eq!(c.dashboards.as_ref().map(Url::as_str), Some("https://search.example.com/_dashboards"));
        assert_eq!(c.destinations, Destinations::default(), "nothing is sent until the secret is read");
    }

    #[test]
    fn a_bad_webhook_url_is_refused_without_repeating_it() {
        let e = DetectConfig::from_pairs(&[("SLACK_WEBHOOK_URL", "hooks.slack.com/services/T000/B000/SECRETTOKEN")])
            .unwrap_err();
        assert!(!e.to_string().contains("SECRETTOKEN"), "{e}");
        let c = DetectConfig::from_pairs(&[(
            "SLACK_WEBHOOK_URL",
            "https://hooks.slack.com/services/T000/B000/SECRETTOKEN",
        )])
        .unwrap();
        assert!(!format!("{c:?}").contains("SECRETTOKEN"));
        let e = DetectConfig::from_pairs(&[("WEBHOOK_URL", "ftp://x/SECRETTOKEN")]).unwrap_err();
        assert!(!e.to_string().contains("SECRETTOKEN"));
    }
}
