//! Typed configuration read once at cold start.
//!
//! Every function reads its settings through an [`Env`] lookup, so tests pass a map and never
//! touch the process environment. Bad or missing values fail the cold start with a message that
//! names the variable.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

/// A value that is none of a setting's words (`daily`, `monthly`, `none`…).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not one of {allowed}")]
pub struct NotOneOf {
    /// The value given.
    pub value: String,
    /// The words allowed, comma-separated.
    pub allowed: &'static str,
}

impl NotOneOf {
    /// `value` is none of `allowed`.
    pub fn new(value: impl Into<String>, allowed: &'static str) -> Self {
        Self { value: value.into(), allowed }
    }
}

/// A missing or invalid configuration value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A required variable is not set.
    #[error("{var} is required but not set ({hint})")]
    Missing {
        /// The variable.
        var: &'static str,
        /// What it should hold.
        hint: &'static str,
    },
    /// A variable is set to a value that cannot be used.
    #[error("{var} is invalid: {reason}")]
    Invalid {
        /// The variable.
        var: &'static str,
        /// Why. Never echoes secret values.
        reason: String,
    },
}

/// Settings read from an [`Env`] at cold start.
pub trait FromEnv: Sized {
    /// Reads the settings.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the variable that is missing or invalid.
    fn from_env(env: &Env<'_>) -> Result<Self, ConfigError>;

    /// The settings a few pairs give (tests, and commands that set variables from flags).
    ///
    /// # Errors
    /// As [`FromEnv::from_env`].
    fn from_pairs(pairs: &[(&str, &str)]) -> Result<Self, ConfigError> {
        Self::from_env(&Env::from_pairs(pairs))
    }
}

/// A source of configuration values: the process environment, or a map in tests.
pub struct Env<'a>(Lookup<'a>);

type Lookup<'a> = Box<dyn Fn(&str) -> Option<String> + 'a>;

impl Env<'static> {
    /// The process environment.
    #[must_use]
    pub fn process() -> Self {
        Self(Box::new(|k| std::env::var(k).ok()))
    }

    /// A few values given as pairs (tests, and commands that set variables from flags).
    #[must_use]
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Self(Box::new(move |k| map.get(k).cloned()))
    }
}

impl<'a> Env<'a> {
    /// Any lookup function.
    pub fn from_lookup(f: impl Fn(&str) -> Option<String> + 'a) -> Self {
        Self(Box::new(f))
    }

    /// A map of values (tests).
    #[must_use]
    pub fn from_map(map: &'a HashMap<String, String>) -> Self {
        Self(Box::new(move |k| map.get(k).cloned()))
    }

    /// The value of `var`, if set and not empty.
    #[must_use]
    pub fn get(&self, var: &str) -> Option<String> {
        (self.0)(var).filter(|v| !v.trim().is_empty())
    }

    /// A required value.
    ///
    /// # Errors
    /// [`ConfigError::Missing`].
    pub fn required(&self, var: &'static str, hint: &'static str) -> Result<String, ConfigError> {
        self.get(var).ok_or(ConfigError::Missing { var, hint })
    }

    /// An optional value parsed with [`FromStr`], or `default`.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] with the parser's message.
    pub fn parse_or<T: FromStr>(&self, var: &'static str, default: T) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        self.get(var).map_or(Ok(default), |v| {
            v.trim().parse().map_err(|e: T::Err| ConfigError::Invalid { var, reason: format!("`{}`: {e}", v.trim()) })
        })
    }

    /// An optional boolean (`true`/`false`/`1`/`0`/`yes`/`no`), or `default`.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for anything else.
    pub fn bool_or(&self, var: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.get(var).map(|v| v.trim().to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if matches!(v.as_str(), "true" | "1" | "yes") => Ok(true),
            Some(v) if matches!(v.as_str(), "false" | "0" | "no") => Ok(false),
            Some(v) => Err(ConfigError::Invalid { var, reason: format!("`{v}` is not true or false") }),
        }
    }

    /// An optional switch, `on` (also when unset or empty) or `off`.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for anything else.
    pub fn on_off(&self, var: &'static str) -> Result<bool, ConfigError> {
        match self.get(var).as_deref().map(str::trim) {
            None | Some("" | "on") => Ok(true),
            Some("off") => Ok(false),
            Some(other) => Err(ConfigError::Invalid { var, reason: NotOneOf::new(other, "on, off").to_string() }),
        }
    }

    /// `DEADLINE_MARGIN_MS`: the time every function keeps free before the Lambda deadline
    /// ([`DEFAULT_DEADLINE_MARGIN`] when unset).
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] when it is not a whole number of milliseconds.
    pub fn deadline_margin(&self) -> Result<Duration, ConfigError> {
        let default = u64::try_from(DEFAULT_DEADLINE_MARGIN.as_millis()).unwrap_or(u64::MAX);
        Ok(Duration::from_millis(self.parse_or("DEADLINE_MARGIN_MS", default)?))
    }

    /// `MAX_DECODED_BYTES`: the cap on a decompressed payload, at least 1024 (`default` when
    /// unset).
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] when it is not a number of bytes, or below 1024.
    pub fn max_decoded_bytes(&self, default: usize) -> Result<usize, ConfigError> {
        let bytes = self.parse_or("MAX_DECODED_BYTES", default)?;
        if bytes < 1024 {
            return Err(ConfigError::Invalid { var: "MAX_DECODED_BYTES", reason: "must be at least 1024".into() });
        }
        Ok(bytes)
    }
}

/// The time kept free before the Lambda deadline when `DEADLINE_MARGIN_MS` is unset.
pub const DEFAULT_DEADLINE_MARGIN: Duration = Duration::from_secs(2);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_reports_the_variable() {
        let map: HashMap<String, String> =
            [("N".into(), "12".into()), ("B".into(), "maybe".into()), ("E".into(), " ".into())].into();
        let env = Env::from_map(&map);
        assert_eq!(env.parse_or::<u32>("N", 1).unwrap(), 12);
        assert_eq!(env.parse_or::<u32>("MISSING", 1).unwrap(), 1);
        assert_eq!(env.parse_or::<u32>("E", 3).unwrap(), 3, "blank counts as unset");
        let err = env.bool_or("B", true).unwrap_err();
        assert_eq!(err.to_string(), "B is invalid: `maybe` is not true or false");
        let err = env.required("X", "an https URL").unwrap_err();
        assert_eq!(err.to_string(), "X is required but not set (an https URL)");
    }

    #[test]
    fn the_settings_every_function_shares_have_one_reading() {
        let read = |pairs: &[(&str, &str)]| {
            let env = Env::from_pairs(pairs);
            (env.deadline_margin(), env.max_decoded_bytes(4096))
        };
        assert_eq!(read(&[]), (Ok(DEFAULT_DEADLINE_MARGIN), Ok(4096)));
        let set = read(&[("DEADLINE_MARGIN_MS", "500"), ("MAX_DECODED_BYTES", "1024")]);
        assert_eq!(set, (Ok(Duration::from_millis(500)), Ok(1024)));
        let (margin, bytes) = read(&[("DEADLINE_MARGIN_MS", "soon"), ("MAX_DECODED_BYTES", "1023")]);
        assert!(matches!(margin, Err(ConfigError::Invalid { var: "DEADLINE_MARGIN_MS", .. })));
        assert_eq!(bytes.unwrap_err().to_string(), "MAX_DECODED_BYTES is invalid: must be at least 1024");
    }
}
