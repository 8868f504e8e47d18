//! `seclog rules`: what loads and why not, and which recorded records match which rules.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use seclog_rules::{RuleSet, Status};

/// `seclog rules list`: every rule read, loaded (and on which records) or skipped (and why).
///
/// # Errors
/// Only when `out` cannot be written.
pub fn list(rules: &RuleSet, out: &mut impl Write) -> Result<()> {
    let (mut loaded, mut skipped) = (0, 0);
    for entry in rules.report() {
        let title = entry.title.as_deref().unwrap_or("(no rule read)");
        match &entry.status {
            Status::Loaded(source) => {
                loaded += 1;
                let level = entry.id.as_deref().and_then(|id| rules.about(id)).map_or("", |r| r.level.as_str());
                writeln!(out, "loaded      {:<10} {level:<13} {title}  ({})", source.as_str(), entry.file)?;
            }
            Status::Correlation => {
                loaded += 1;
                let level = entry.id.as_deref().and_then(|id| rules.about(id)).map_or("", |r| r.level.as_str());
                writeln!(out, "correlation {:<10} {level:<13} {title}  ({})", "alerter", entry.file)?;
            }
            Status::Skipped(reason) => {
                skipped += 1;
                writeln!(out, "skipped     {title}  ({}): {reason}", entry.file)?;
            }
        }
    }
    for rule in seclog_detect::baseline::first_seen_rules() {
        writeln!(
            out,
            "first-seen  {:<10} {:<13} {}  (built into the alerter)",
            "alerter",
            rule.rule.about.level.as_str(),
            rule.rule.about.title
        )?;
    }
    let findings = seclog_detect::baseline::findings_rule();
    writeln!(
        out,
        "findings    {:<10} {:<13} {}  (built into the alerter)",
        "alerter", "by severity", findings.about.title
    )?;
    writeln!(out, "{loaded} loaded, {skipped} skipped; 3 built into the alerter")?;
    Ok(())
}

/// One document that matched, from a replay's bulk NDJSON.
#[derive(Debug, PartialEq, Eq)]
pub struct Hit {
    /// The document's id (`eventID` for `CloudTrail`).
    pub id: String,
    /// `event.action` or the DNS question, to recognise the record.
    pub what: String,
    /// The rules that matched.
    pub rule_ids: Vec<String>,
}

/// The documents of a replay's bulk body that carry `detection.rule_ids`, in order.
#[must_use]
pub fn hits(ndjson: &[u8]) -> Vec<Hit> {
    let mut lines = ndjson.split(|b| *b == b'\n').filter(|l| !l.is_empty());
    let mut hits = Vec::new();
    while let (Some(action), Some(doc)) = (lines.next(), lines.next()) {
        let (Ok(action), Ok(doc)) =
            (serde_json::from_slice::<serde_json::Value>(action), serde_json::from_slice::<serde_json::Value>(doc))
        else {
            continue;
        };
        let ids: Vec<String> = doc["detection"]["rule_ids"]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        if ids.is_empty() {
            continue;
        }
        let id = action.as_object().and_then(|o| o.values().next()).and_then(|m| m["_id"].as_str()).unwrap_or("");
        let what = doc["event"]["action"].as_str().or_else(|| doc["dns"]["question"]["name"].as_str()).unwrap_or("");
        hits.push(Hit { id: id.to_owned(), what: what.to_owned(), rule_ids: ids });
    }
    hits
}

/// Prints each hit with the titles of its rules.
///
/// # Errors
/// Only when `out` cannot be written.
pub fn print_hits(rules: &RuleSet, files: &[PathBuf], hits: &[Hit], out: &mut impl Write) -> Result<()> {
    for hit in hits {
        for id in &hit.rule_ids {
            let (title, level) = rules.about(id).map_or((id.as_str(), ""), |r| (r.title.as_str(), r.level.as_str()));
            writeln!(out, "{} {}: {title} ({level})", hit.id, hit.what)?;
        }
    }
    writeln!(out, "{} matching records in {} event files", hits.len(), files.len())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_says_what_loads_what_is_skipped_and_why() {
        let rules = RuleSet::load(&seclog_rules::RulesConfig::bundled()).unwrap();
        let mut out = Vec::new();
        list(&rules, &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains("loaded      cloudtrail medium        AWS CloudTrail Important Change"), "{out}");
        assert!(out.contains(
            "skipped     (no rule read)  (bundled:seclog/aws_console_login_outside_allowed_addresses.yml): \
             placeholder %Legitimate_IP_Ranges% is not configured (set ALLOWED_CIDRS)"
        ));
        assert!(out.contains("correlation alerter    high          AWS Console Sign-In Brute-Force Burst"));
        assert!(
            out.contains("first-seen  alerter    high          AWS Console Sign-In From a Country New for the User")
        );
        assert!(out.ends_with("68 loaded, 2 skipped; 3 built into the alerter\n"), "{out}");
    }

    #[test]
    fn hits_are_the_documents_that_carry_rule_ids() {
        let ndjson = concat!(
            r#"{"create":{"_index":"cloudtrail-2026.11.30","_id":"e1"}}"#,
            "\n",
            r#"{"event":{"action":"StopLogging"},"detection":{"rule_ids":["r1"],"level":"medium"}}"#,
            "\n",
            r#"{"create":{"_index":"cloudtrail-2026.11.30","_id":"e2"}}"#,
            "\n",
            r#"{"event":{"action":"DescribeInstances"}}"#,
            "\n",
        );
        assert_eq!(
            hits(ndjson.as_bytes()),
            [Hit { id: "e1".into(), what: "StopLogging".into(), rule_ids: vec!["r1".into()] }]
        );
    }
}
