//! The index templates shipped in `templates/`, one per index family.

use anyhow::{bail, Result};
use serde_json::Value;

use crate::client::Client;

/// `(family, template JSON)` for every family.
pub const TEMPLATES: [(&str, &str); 7] = [
    ("cloudtrail", include_str!("../../../templates/cloudtrail.json")),
    ("waf", include_str!("../../../templates/waf.json")),
    ("vpcflow", include_str!("../../../templates/vpcflow.json")),
    ("route53-resolver", include_str!("../../../templates/route53-resolver.json")),
    ("route53-public", include_str!("../../../templates/route53-public.json")),
    ("securityhub", include_str!("../../../templates/securityhub.json")),
    ("deadletter", include_str!("../../../templates/deadletter.json")),
];

/// Installs (or updates) every template as `seclog-<family>`. Returns the names installed.
///
/// # Errors
/// When a template is refused.
pub async fn install(client: &Client) -> Result<Vec<String>> {
    if let Some((a, b)) = conflicts(&TEMPLATES).first() {
        bail!("the shipped templates {a} and {b} match the same indices at the same priority: OpenSearch refuses that");
    }
    let mut names = Vec::new();
    for (family, json) in TEMPLATES {
        let body: Value = serde_json::from_str(json)?;
        let name = format!("seclog-{family}");
        client.call("PUT", &format!("_index_template/{name}"), Some(&body)).await?;
        names.push(name);
    }
    Ok(names)
}

/// The pairs of templates that `OpenSearch` refuses to hold together: some index name matches a
/// pattern of each, and both have the same priority. This is the cluster's own rule
/// (`MetadataIndexTemplateService.findConflictingV2Templates`: the automata of the two pattern
/// lists intersect, and `priorityOrZero()` is equal); osmem does not enforce it.
#[must_use]
pub fn conflicts<'a>(templates: &[(&'a str, &str)]) -> Vec<(&'a str, &'a str)> {
    let parsed: Vec<(&str, Vec<String>, u64)> = templates
        .iter()
        .map(|(family, json)| {
            let v: Value = serde_json::from_str(json).unwrap_or_default();
            let patterns = v["index_patterns"].as_array().into_iter().flatten().filter_map(Value::as_str);
            (*family, patterns.map(str::to_owned).collect(), v["priority"].as_u64().unwrap_or(0))
        })
        .collect();
    let mut found = Vec::new();
    for (i, (a, pa, prio_a)) in parsed.iter().enumerate() {
        for (b, pb, prio_b) in &parsed[i + 1..] {
            if prio_a == prio_b && pa.iter().any(|x| pb.iter().any(|y| globs_intersect(x, y))) {
                found.push((*a, *b));
            }
        }
    }
    found
}

/// Whether some string matches both simple-match patterns (`*` matches any run of characters,
/// everything else itself), as the intersection of their automata is non-empty.
fn globs_intersect(left: &str, right: &str) -> bool {
    let (a, b) = (left.as_bytes(), right.as_bytes());
    // reach[i][j]: some string takes `a[..i]` and `b[..j]` to the same point.
    let mut reach = vec![vec![false; b.len() + 1]; a.len() + 1];
    reach[0][0] = true;
    for i in 0..=a.len() {
        for j in 0..=b.len() {
            if !reach[i][j] {
                continue;
            }
            let (here, there) = (a.get(i), b.get(j));
            if here == Some(&b'*') {
                reach[i + 1][j] = true; // the star matches nothing more
            }
            if there == Some(&b'*') {
                reach[i][j + 1] = true;
            }
            match (here, there) {
                (Some(&b'*'), Some(&b'*')) => {}
                (Some(&b'*'), Some(_)) => reach[i][j + 1] = true, // a's star eats b's character
                (Some(_), Some(&b'*')) => reach[i + 1][j] = true,
                (Some(ours), Some(theirs)) if ours == theirs => reach[i + 1][j + 1] = true,
                _ => {}
            }
        }
    }
    reach[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::{conflicts, globs_intersect, TEMPLATES};

    #[test]
    fn no_two_shipped_templates_match_one_index_at_the_same_priority() {
        assert_eq!(conflicts(&TEMPLATES), Vec::<(&str, &str)>::new());
    }

    #[test]
    fn the_dead_letter_pattern_overlaps_every_family_and_must_outrank_them() {
        let dead = r#"{"index_patterns": ["*-deadletter-*"], "priority": 100}"#;
        let trail = r#"{"index_patterns": ["cloudtrail-*"], "priority": 100}"#;
        let waf = r#"{"index_patterns": ["waf-*"], "priority": 100}"#;
        assert_eq!(
            conflicts(&[("deadletter", dead), ("cloudtrail", trail), ("waf", waf)]),
            [("deadletter", "cloudtrail"), ("deadletter", "waf")]
        );
        let dead = r#"{"index_patterns": ["*-deadletter-*"], "priority": 200}"#;
        assert!(conflicts(&[("deadletter", dead), ("cloudtrail", trail)]).is_empty());
    }

    #[test]
    fn pattern_intersection() {
        for (a, b, meet) in [
            ("*-deadletter-*", "cloudtrail-*", true),
            ("route53-public-*", "route53-resolver-*", false),
            ("waf-*", "vpcflow-*", false),
            ("route53-*", "route53-public-*", true),
            ("a*c", "ab*", true),
            ("a*c", "*b", false),
            ("abc", "abc", true),
            ("abc", "abd", false),
            ("*", "anything", true),
        ] {
            assert_eq!(globs_intersect(a, b), meet, "{a} ~ {b}");
            assert_eq!(globs_intersect(b, a), meet, "{b} ~ {a}");
        }
    }

    #[test]
    fn templates_are_json_with_deliberate_dynamic_and_limits() {
        for (family, json) in super::TEMPLATES {
            let v: serde_json::Value = serde_json::from_str(json).unwrap();
            assert_eq!(v["template"]["mappings"]["dynamic"], false, "{family}");
            assert!(
                v["template"]["settings"]["index.mapping.total_fields.limit"].as_u64().unwrap() <= 1000,
                "{family}"
            );
            assert!(v["index_patterns"].as_array().is_some_and(|p| !p.is_empty()), "{family}");
        }
    }
}
