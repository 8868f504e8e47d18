//! `seclog dashboards install`: an index pattern per family in `OpenSearch` Dashboards, each with
//! its time field, so the first visit to Discover needs no setup. The saved objects are the JSON
//! in `dashboards/index-patterns.json`; each is written with
//! `POST api/saved_objects/index-pattern/<id>?overwrite=true` (`OpenSearch` Dashboards'
//! `src/core/server/saved_objects/routes/create.ts`): the same id every time, so a second install
//! updates in place. Writes need the `osd-xsrf` header (`src/core/server/http/lifecycle_handlers.ts`).

use anyhow::{Context, Result};
use serde::Deserialize;
use serde_json::json;

use crate::client::Client;
use seclog_core::sink::opensearch::config::OpenSearchConfig;

/// The saved objects, as kept in the repository.
const INDEX_PATTERNS: &str = include_str!("../../../dashboards/index-patterns.json");

/// One index pattern.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IndexPattern {
    /// Its saved-object id (`seclog-<family>`).
    pub id: String,
    /// The indices it covers (`cloudtrail-*`).
    pub title: String,
    /// The field Discover and visualisations filter time on.
    #[serde(rename = "timeFieldName")]
    pub time_field: String,
}

/// The index patterns seclog installs: every family, alerts and dead letters included.
///
/// # Errors
/// Never for the bundled file (a test reads it).
pub fn index_patterns() -> Result<Vec<IndexPattern>> {
    serde_json::from_str(INDEX_PATTERNS).context("dashboards/index-patterns.json")
}

/// `config` for a Dashboards URL: its path (`/_dashboards` on Amazon `OpenSearch` Service) is
/// kept as the base of the API's paths.
#[must_use]
pub fn base(mut config: OpenSearchConfig) -> OpenSearchConfig {
    if !config.endpoint.path().ends_with('/') {
        let path = format!("{}/", config.endpoint.path());
        config.endpoint.set_path(&path);
    }
    config
}

/// Creates or updates every index pattern; returns their titles.
///
/// # Errors
/// The first request Dashboards refuses (its status and reason), or one that cannot be sent.
pub async fn install(client: &Client) -> Result<Vec<String>> {
    let mut installed = Vec::new();
    for pattern in index_patterns()? {
        let body = json!({"attributes": {"title": pattern.title, "timeFieldName": pattern.time_field}});
        let path = format!("api/saved_objects/index-pattern/{}?overwrite=true", pattern.id);
        client
            .call_with("POST", &path, Some(&body), &[("osd-xsrf", "true")])
            .await
            .with_context(|| format!("index pattern {}", pattern.title))?;
        installed.push(pattern.title);
    }
    Ok(installed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_has_an_index_pattern_on_its_time_field() {
        let patterns = index_patterns().unwrap();
        let titles: Vec<&str> = patterns.iter().map(|p| p.title.as_str()).collect();
        assert_eq!(
            titles,
            [
                "cloudtrail-*",
                "waf-*",
                "vpcflow-*",
                "route53-resolver-*",
                "route53-public-*",
                "securityhub-*",
                "alb-*",
                "*-alerts-*",
                "*-deadletter-*"
            ]
        );
        assert!(patterns.iter().all(|p| p.time_field == "@timestamp" && p.id.starts_with("seclog-")));
        // Each is a family with a template: the templates' patterns are the same list.
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../templates");
        let mut templated: Vec<String> = std::fs::read_dir(root)
            .unwrap()
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .flat_map(|t| {
                let v: serde_json::Value = serde_json::from_str(&t).unwrap();
                v["index_patterns"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p.as_str().unwrap().to_owned())
                    .collect::<Vec<_>>()
            })
            .collect();
        templated.sort();
        let mut ours: Vec<String> = titles.iter().map(|t| (*t).to_owned()).collect();
        ours.sort();
        assert_eq!(ours, templated);
    }

    #[test]
    fn a_dashboards_path_is_the_base_of_the_api() {
        let config = OpenSearchConfig::local("http://127.0.0.1:5601/_dashboards").unwrap();
        let url = base(config).endpoint.join("api/saved_objects/index-pattern/x").unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:5601/_dashboards/api/saved_objects/index-pattern/x");
    }
}
