//! The index templates shipped in `templates/`, one per index family.

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use crate::client::Client;

/// `(family, template JSON)` for every family.
pub const TEMPLATES: [(&str, &str); 9] = [
    (seclog_cloudtrail::FAMILY, include_str!("../../../templates/cloudtrail.json")),
    (seclog_waf::FAMILY, include_str!("../../../templates/waf.json")),
    (seclog_vpcflow::FAMILY, include_str!("../../../templates/vpcflow.json")),
    (seclog_route53::RESOLVER_FAMILY, include_str!("../../../templates/route53-resolver.json")),
    (seclog_route53::PUBLIC_FAMILY, include_str!("../../../templates/route53-public.json")),
    (seclog_securityhub::FAMILY, include_str!("../../../templates/securityhub.json")),
    (seclog_s3::ALB_FAMILY, include_str!("../../../templates/alb.json")),
    ("deadletter", include_str!("../../../templates/deadletter.json")),
    ("alerts", include_str!("../../../templates/alerts.json")),
];

/// How the templates map the free-form objects of a log (`CloudTrail`'s `requestParameters`, WAF's
/// rule-match details, Security Hub's `ProductFields`, …). The documents are the same either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Variant {
    /// `flat_object`: one field per object, searchable by dotted path (`OpenSearch` 2.7 and later).
    #[value(help = "flat_object: searchable by dotted path (OpenSearch 2.7 and later)")]
    FlatObject,
    /// `object` with `enabled: false`: kept in `_source` and returned with every hit, but not
    /// searchable (`OpenSearch` 1.0–2.6, Elasticsearch 7.8–7.10, where `flat_object` does not exist).
    #[value(help = "kept in the source of every hit, not searchable (OpenSearch 1.0-2.6, Elasticsearch 7.8-7.10)")]
    Unindexed,
}

impl Variant {
    /// What it means for the user's free-form objects, as `templates install` says it.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Self::FlatObject => "flat_object, searchable by dotted path",
            Self::Unindexed => {
                "kept in _source, not searchable (this cluster has no flat_object; OpenSearch 2.7 or later has)"
            }
        }
    }
}

/// What `templates install` did.
#[derive(Debug)]
pub struct Installed {
    /// The template names, `seclog-<family>`.
    pub names: Vec<String>,
    /// The variant installed.
    pub variant: Variant,
    /// What the cluster said it is (`OpenSearch 2.11.0`), or why it was not asked.
    pub cluster: String,
}

/// Installs (or updates) every template as `seclog-<family>`, in the variant `variant`, or when
/// `None` in the one the cluster's version (`GET /`) accepts. Serverless collections are not
/// asked: `GET /` is not among their operations, and they run current `OpenSearch`.
///
/// # Errors
/// When the cluster is a version the templates cannot work on (nothing is installed then), or a
/// template is refused.
pub async fn install(client: &Client, variant: Option<Variant>) -> Result<Installed> {
    if let Some((a, b)) = conflicts(&TEMPLATES).first() {
        bail!("the shipped templates {a} and {b} match the same indices at the same priority: OpenSearch refuses that");
    }
    let (variant, cluster) = match variant {
        Some(v) => (v, "not asked (--variant given)".to_owned()),
        None if client.is_serverless() => (Variant::FlatObject, "OpenSearch Serverless".to_owned()),
        None => {
            let root = client.call("GET", "", None).await?;
            (variant_for(&root)?, describe(&root))
        }
    };
    let mut names = Vec::new();
    for (family, json) in TEMPLATES {
        let name = format!("seclog-{family}");
        client.call("PUT", &format!("_index_template/{name}"), Some(&render(json, variant)?)).await?;
        names.push(name);
    }
    Ok(Installed { names, variant, cluster })
}

/// The variant a cluster accepts, from its `GET /` answer.
///
/// `OpenSearch` names itself in `version.distribution`; Elasticsearch does not, and neither does an
/// `OpenSearch` domain with `override_main_response_version` (it reports `7.10.2` for old clients),
/// which the Elasticsearch 7.10 answer suits as well.
///
/// # Errors
/// A version below `OpenSearch` 1.0 or Elasticsearch 7.8 (no composable index templates), an
/// Elasticsearch 8 or later (not `OpenSearch`'s lineage: its mappings and APIs drifted apart), or
/// an answer without a version.
pub fn variant_for(root: &Value) -> Result<Variant> {
    let number = root["version"]["number"].as_str().context("the cluster's answer to GET / names no version")?;
    let (major, minor) = major_minor(number).with_context(|| format!("unreadable version {number:?}"))?;
    let opensearch = root["version"]["distribution"].as_str() == Some("opensearch");
    match (opensearch, major, minor) {
        (true, 3.., _) | (true, 2, 7..) => Ok(Variant::FlatObject),
        (true, 1 | 2, _) | (false, 7, 8..) => Ok(Variant::Unindexed),
        _ => bail!(
            "the cluster is {}: seclog's templates need OpenSearch 1.0 or later (2.7 or later to search \
             free-form objects as flat_object), or Elasticsearch 7.8 to 7.10",
            describe(root)
        ),
    }
}

fn major_minor(number: &str) -> Option<(u32, u32)> {
    let mut parts = number.split(['.', '-']);
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

fn describe(root: &Value) -> String {
    let number = root["version"]["number"].as_str().unwrap_or("of unknown version");
    match root["version"]["distribution"].as_str() {
        Some("opensearch") => format!("OpenSearch {number}"),
        _ => format!("Elasticsearch {number}"),
    }
}

/// A shipped template in `variant`: for [`Variant::Unindexed`], every `flat_object` field becomes
/// an object that is not parsed (`"enabled": false`), which accepts any value the functions write.
///
/// # Errors
/// When the template is not JSON (a shipped one always is).
pub fn render(json: &str, variant: Variant) -> Result<Value> {
    let mut body: Value = serde_json::from_str(json)?;
    if variant == Variant::Unindexed {
        unindex_flat_objects(&mut body["template"]["mappings"]);
        body["_meta"]["variant"] = "unindexed".into();
    }
    Ok(body)
}

fn unindex_flat_objects(mapping: &mut Value) {
    let Some(properties) = mapping.get_mut("properties").and_then(Value::as_object_mut) else { return };
    for field in properties.values_mut() {
        if field["type"] == "flat_object" {
            *field = json!({"type": "object", "enabled": false});
        } else {
            unindex_flat_objects(field);
        }
    }
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
    use super::{conflicts, globs_intersect, render, variant_for, Variant, TEMPLATES};
    use serde_json::{json, Value};

    /// A `GET /` answer in the shape each product writes (`distribution` only from `OpenSearch`).
    fn root(distribution: Option<&str>, number: &str) -> Value {
        let mut version = json!({"number": number, "build_type": "tar", "build_snapshot": false,
            "lucene_version": "9.7.0", "minimum_wire_compatibility_version": "7.10.0"});
        if let Some(d) = distribution {
            version["distribution"] = d.into();
        } else {
            version["build_flavor"] = "oss".into();
        }
        json!({"name": "node-1", "cluster_name": "123456789012:logs", "cluster_uuid": "u", "version": version})
    }

    #[test]
    fn the_cluster_version_chooses_the_variant() {
        for (distribution, number, variant) in [
            (Some("opensearch"), "3.1.0", Variant::FlatObject),
            (Some("opensearch"), "2.19.0", Variant::FlatObject),
            (Some("opensearch"), "2.7.0", Variant::FlatObject),
            (Some("opensearch"), "3.0.0-SNAPSHOT", Variant::FlatObject),
            (Some("opensearch"), "2.6.0", Variant::Unindexed),
            (Some("opensearch"), "1.3.19", Variant::Unindexed),
            (Some("opensearch"), "1.0.0", Variant::Unindexed),
            // Elasticsearch 7.10, and an OpenSearch domain with override_main_response_version.
            (None, "7.10.2", Variant::Unindexed),
            (None, "7.8.0", Variant::Unindexed),
        ] {
            assert_eq!(variant_for(&root(distribution, number)).unwrap(), variant, "{distribution:?} {number}");
        }
    }

    #[test]
    fn versions_without_composable_templates_or_of_another_lineage_are_refused_by_name() {
        for (distribution, number, named) in [
            (None, "7.7.1", "Elasticsearch 7.7.1"),
            (None, "6.8.23", "Elasticsearch 6.8.23"),
            (None, "8.11.0", "Elasticsearch 8.11.0"),
            (Some("opensearch"), "0.9.0", "OpenSearch 0.9.0"),
        ] {
            let err = variant_for(&root(distribution, number)).unwrap_err().to_string();
            assert!(err.contains(named) && err.contains("OpenSearch 1.0 or later") && err.contains("7.8"), "{err}");
        }
        for answer in [json!({}), json!({"version": {"number": "seven"}}), json!("<html>")] {
            assert!(variant_for(&answer).is_err(), "{answer}");
        }
    }

    #[test]
    fn the_unindexed_variant_disables_exactly_the_flat_object_fields() {
        fn paths(mapping: &Value, prefix: &str, out: &mut Vec<(String, Value)>) {
            for (name, field) in mapping["properties"].as_object().into_iter().flatten() {
                let path = format!("{prefix}{name}");
                if field.get("properties").is_some() {
                    paths(field, &format!("{path}."), out);
                } else {
                    out.push((path, field.clone()));
                }
            }
        }
        let mut changed = 0;
        for (family, json) in TEMPLATES {
            let (mut before, mut after) = (Vec::new(), Vec::new());
            assert_eq!(render(json, Variant::FlatObject).unwrap(), serde_json::from_str::<Value>(json).unwrap());
            let unindexed = render(json, Variant::Unindexed).unwrap();
            paths(&serde_json::from_str::<Value>(json).unwrap()["template"]["mappings"], "", &mut before);
            paths(&unindexed["template"]["mappings"], "", &mut after);
            assert_eq!(before.len(), after.len(), "{family}");
            for ((path, was), (same_path, now)) in before.iter().zip(&after) {
                assert_eq!(path, same_path);
                if was["type"] == "flat_object" {
                    assert_eq!(now, &json!({"type": "object", "enabled": false}), "{family} {path}");
                    changed += 1;
                } else {
                    assert_eq!(was, now, "{family} {path}");
                }
            }
            assert!(!unindexed.to_string().contains("flat_object\""), "{family}");
        }
        assert_eq!(changed, 19, "every flat_object field of the shipped templates");
    }

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
