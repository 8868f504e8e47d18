//! The index templates shipped in `templates/`, one per index family.

use anyhow::Result;
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
    let mut names = Vec::new();
    for (family, json) in TEMPLATES {
        let body: Value = serde_json::from_str(json)?;
        let name = format!("seclog-{family}");
        client.call("PUT", &format!("_index_template/{name}"), Some(&body)).await?;
        names.push(name);
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
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
