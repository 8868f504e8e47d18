//! Index naming: a prefix plus a rotation suffix from the event's own time in UTC.

use chrono::{DateTime, Datelike, Utc};

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
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "daily" => Ok(Self::Daily),
            "monthly" => Ok(Self::Monthly),
            "none" => Ok(Self::None),
            other => Err(format!("`{other}` is not one of daily, monthly, none")),
        }
    }
}

/// A validated index prefix with its rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexPattern {
    prefix: String,
    rotation: Rotation,
}

impl IndexPattern {
    /// Validates the prefix against `OpenSearch`'s index name rules (lowercase; no spaces or
    /// `\ / * ? " < > | , # :`; not starting with `-`, `_` or `+`; at most 200 bytes).
    ///
    /// # Errors
    /// A message saying what is wrong with the prefix.
    pub fn new(prefix: &str, rotation: Rotation) -> Result<Self, String> {
        if prefix.is_empty() || prefix.len() > 200 {
            return Err("must be 1 to 200 bytes long".into());
        }
        if prefix.starts_with(['-', '_', '+']) {
            return Err("must not start with `-`, `_` or `+`".into());
        }
        if let Some(c) = prefix.chars().find(|c| c.is_uppercase() || c.is_whitespace() || r#"\/*?"<>|,#:"#.contains(*c))
        {
            return Err(format!("must not contain `{c}` (lowercase, no spaces or \\ / * ? \" < > | , # :)"));
        }
        Ok(Self { prefix: prefix.to_owned(), rotation })
    }

    /// The index for an event at `time`.
    #[must_use]
    pub fn name_for(&self, time: DateTime<Utc>) -> String {
        // Plain integer formatting: chrono's `format` parses its pattern on every call.
        let (y, m, d) = (time.year(), time.month(), time.day());
        match self.rotation {
            Rotation::Daily => format!("{}-{y:04}.{m:02}.{d:02}", self.prefix),
            Rotation::Monthly => format!("{}-{y:04}.{m:02}", self.prefix),
            Rotation::None => self.prefix.clone(),
        }
    }

    /// The prefix.
    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.prefix
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
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
    fn bad_prefixes_are_refused() {
        for bad in ["", "Upper", "a b", "a*b", "_x", "-x", "a:b"] {
            assert!(IndexPattern::new(bad, Rotation::Daily).is_err(), "{bad}");
        }
    }

    #[test]
    fn rotation_parses() {
        assert_eq!("Monthly".parse::<Rotation>().unwrap(), Rotation::Monthly);
        assert!("weekly".parse::<Rotation>().is_err());
    }
}
