//! What the rules read from the function's environment.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `DETECTION` | `on` | `off` evaluates no rule at ingest |
//! | `DETECTION_RULES_DIR` | unset | a folder of the user's own Sigma rules (`*.yml`), loaded beside the bundled ones |
//! | `ALLOWED_CIDRS` | unset | addresses and CIDR ranges that sign in legitimately (`%Legitimate_IP_Ranges%`) |
//! | `ALLOWED_COUNTRIES` | unset | ISO 3166 alpha-2 codes (`%Legitimate_Countries%`) |

use std::net::IpAddr;
use std::path::PathBuf;

use ipnet::IpNet;
use seclog_core::config::{ConfigError, Env, FromEnv};

/// The rule settings, read once at cold start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RulesConfig {
    /// `false` evaluates no rule.
    pub enabled: bool,
    /// `false` leaves the bundled rules out (`seclog rules test`, for a rule author's own rules).
    pub without_bundled: bool,
    /// The user's own rules, loaded beside the bundled set.
    pub dir: Option<PathBuf>,
    /// `%Legitimate_IP_Ranges%`; a rule using it is not loaded while it is empty.
    pub allowed_cidrs: Vec<IpNet>,
    /// `%Legitimate_Countries%`; a rule using it is not loaded while it is empty.
    pub allowed_countries: Vec<String>,
}

impl RulesConfig {
    /// The bundled rules, no user rules, no placeholders.
    #[must_use]
    pub fn bundled() -> Self {
        Self { enabled: true, ..Self::default() }
    }
}

impl FromEnv for RulesConfig {
    /// Reads the settings.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the variable that cannot be used.
    fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let enabled = env.on_off("DETECTION")?;
        let dir = env.get("DETECTION_RULES_DIR").filter(|d| !d.trim().is_empty()).map(PathBuf::from);
        let allowed_cidrs = match env.get("ALLOWED_CIDRS") {
            Some(list) => parse_cidrs(&list).map_err(|reason| ConfigError::Invalid { var: "ALLOWED_CIDRS", reason })?,
            None => Vec::new(),
        };
        let allowed_countries = match env.get("ALLOWED_COUNTRIES") {
            Some(list) => {
                parse_countries(&list).map_err(|reason| ConfigError::Invalid { var: "ALLOWED_COUNTRIES", reason })?
            }
            None => Vec::new(),
        };
        Ok(Self { enabled, without_bundled: false, dir, allowed_cidrs, allowed_countries })
    }
}

/// A comma- or space-separated list of CIDR ranges and single addresses (a single address is its
/// own /32 or /128).
///
/// # Errors
/// The first entry that is neither, quoted.
pub fn parse_cidrs(list: &str) -> Result<Vec<IpNet>, String> {
    entries(list)
        .map(|entry| {
            entry
                .parse::<IpNet>()
                .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                .map(|net| net.trunc())
                .map_err(|_| format!("`{entry}` is neither an address nor a CIDR range"))
        })
        .collect()
}

/// A comma- or space-separated list of ISO 3166 alpha-2 country codes, upper-cased.
///
/// # Errors
/// The first entry that is not two letters, quoted.
pub fn parse_countries(list: &str) -> Result<Vec<String>, String> {
    entries(list)
        .map(|entry| {
            if entry.len() == 2 && entry.bytes().all(|b| b.is_ascii_alphabetic()) {
                Ok(entry.to_ascii_uppercase())
            } else {
                Err(format!("`{entry}` is not a two-letter country code"))
            }
        })
        .collect()
}

fn entries(list: &str) -> impl Iterator<Item = &str> {
    list.split([',', ' ', '\n', '\t']).map(str::trim).filter(|e| !e.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_ranges_are_accepted_and_a_single_address_is_its_own_range() {
        let c = RulesConfig::from_pairs(&[("ALLOWED_CIDRS", "203.0.113.0/24, 198.51.100.7 2001:db8::/32,10.1.2.3/8")])
            .unwrap();
        let shown: Vec<String> = c.allowed_cidrs.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["203.0.113.0/24", "198.51.100.7/32", "2001:db8::/32", "10.0.0.0/8"]);
        assert!(c.enabled);
    }

    #[test]
    fn bad_entries_are_refused_by_name() {
        let e = RulesConfig::from_pairs(&[("ALLOWED_CIDRS", "203.0.113.0/24,office")]).unwrap_err();
        assert_eq!(e.to_string(), "ALLOWED_CIDRS is invalid: `office` is neither an address nor a CIDR range");
        let e = RulesConfig::from_pairs(&[("ALLOWED_COUNTRIES", "de,FRA")]).unwrap_err();
        assert_eq!(e.to_string(), "ALLOWED_COUNTRIES is invalid: `FRA` is not a two-letter country code");
        let e = RulesConfig::from_pairs(&[("DETECTION", "maybe")]).unwrap_err();
        assert_eq!(e.to_string(), "DETECTION is invalid: `maybe` is not one of on, off");
    }

    #[test]
    fn defaults() {
        assert_eq!(RulesConfig::from_pairs(&[]).unwrap(), RulesConfig::bundled());
        let c = RulesConfig::from_pairs(&[
            ("DETECTION", "off"),
            ("ALLOWED_COUNTRIES", "de fr"),
            ("DETECTION_RULES_DIR", "/opt/rules"),
        ])
        .unwrap();
        assert!(!c.enabled);
        assert_eq!(c.allowed_countries, ["DE", "FR"]);
        assert_eq!(c.dir, Some(PathBuf::from("/opt/rules")));
    }
}
