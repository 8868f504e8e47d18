//! `seclog aws-ranges refresh`: AWS's published address ranges for the `aws` enrichment.

use std::path::Path;

use anyhow::{Context, Result};
use seclog_enrich::AwsRanges;

/// Reads an `ip-ranges.json` from `from` (an `http(s)://` URL or a file), checks that it parses,
/// and writes it to `to` (beside it first, then renamed over it: a reader never sees half a file).
///
/// # Errors
/// When it cannot be fetched or read, is not an `ip-ranges.json`, or cannot be written; `to` is
/// then left as it was.
pub async fn refresh(from: &str, to: &Path) -> Result<AwsRanges> {
    let bytes = if from.starts_with("https://") || from.starts_with("http://") {
        reqwest::get(from).await?.error_for_status()?.bytes().await?.to_vec()
    } else {
        std::fs::read(from).with_context(|| format!("reading {from}"))?
    };
    let ranges = AwsRanges::parse(&bytes).map_err(|e| anyhow::anyhow!("{from}: {e}"))?;
    let partial = to.with_extension("json.partial");
    std::fs::write(&partial, &bytes).with_context(|| format!("writing {}", partial.display()))?;
    std::fs::rename(&partial, to).with_context(|| format!("writing {}", to.display()))?;
    Ok(ranges)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_good_file_replaces_the_snapshot_and_a_bad_one_leaves_it() {
        let dir = std::env::temp_dir().join(format!("seclog-aws-ranges-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.json");
        std::fs::write(&good, r#"{"createDate":"2026-11-24-00-00-00","prefixes":[{"ip_prefix":"3.5.0.0/19","region":"us-east-1","service":"S3"}],"ipv6_prefixes":[]}"#).unwrap();
        let bad = dir.join("bad.json");
        std::fs::write(&bad, "<html>not found</html>").unwrap();
        let to = dir.join("aws-ip-ranges.json");

        let ranges = refresh(good.to_str().unwrap(), &to).await.unwrap();
        assert_eq!((ranges.prefixes, ranges.created.as_str()), (1, "2026-11-24-00-00-00"));
        assert_eq!(std::fs::read(&to).unwrap(), std::fs::read(&good).unwrap());

        let err = refresh(bad.to_str().unwrap(), &to).await.unwrap_err();
        assert!(err.to_string().starts_with(&format!("{}: ", bad.display())), "{err}");
        assert_eq!(std::fs::read(&to).unwrap(), std::fs::read(&good).unwrap(), "left as it was");
        assert!(refresh(dir.join("missing.json").to_str().unwrap(), &to).await.is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
