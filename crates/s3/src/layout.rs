//! Which log an S3 object holds, read from the key layout AWS writes; never guessed.
//!
//! | kind | key (after an optional prefix) |
//! | --- | --- |
//! | CloudTrail | `AWSLogs/[o-org/]<account>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz` |
//! | CloudTrail digest (dropped by rule) | `AWSLogs/[o-org/]<account>/CloudTrail-Digest/…` |
//! | CloudTrail Insights | `AWSLogs/[o-org/]<account>/CloudTrail-Insight/…` |
//! | VPC Flow Logs | `AWSLogs/<account>/vpcflowlogs/<region>/…/*.log.gz` |
//! | WAF | `AWSLogs/<account>/WAFLogs/<region or cloudfront>/…/*.log.gz` |
//! | Route 53 Resolver query logs | `AWSLogs/<account>/vpcdnsquerylogs/<vpc>/…/*.log.gz` |
//! | ALB access logs | `AWSLogs/<account>/elasticloadbalancing/<region>/…/*.log.gz` |
//!
//! Custom layouts are named by rules (`S3_KIND_RULES`: `prefix=kind,…`), tried first, longest
//! prefix first.

use std::fmt;
use std::str::FromStr;

/// What an object holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// CloudTrail log files (`{"Records":[…]}`).
    CloudTrail,
    /// CloudTrail digest files: dropped by rule (they prove integrity, they hold no events).
    CloudTrailDigest,
    /// CloudTrail Insights events (`{"Records":[…]}`).
    CloudTrailInsight,
    /// VPC Flow Logs, first line the header of field names.
    VpcFlow,
    /// WAF logs, one JSON record per line.
    Waf,
    /// Route 53 Resolver query logs, one JSON record per line.
    Route53Resolver,
    /// Application Load Balancer access logs.
    Alb,
}

impl Kind {
    /// The name used in `S3_KIND_RULES` and in summaries.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CloudTrail => "cloudtrail",
            Self::CloudTrailDigest => "cloudtrail-digest",
            Self::CloudTrailInsight => "cloudtrail-insight",
            Self::VpcFlow => "vpcflow",
            Self::Waf => "waf",
            Self::Route53Resolver => "route53-resolver",
            Self::Alb => "alb",
        }
    }

    const ALL: [Self; 7] = [
        Self::CloudTrail,
        Self::CloudTrailDigest,
        Self::CloudTrailInsight,
        Self::VpcFlow,
        Self::Waf,
        Self::Route53Resolver,
        Self::Alb,
    ];
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A kind name that is none of [`Kind`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a log kind (one of cloudtrail, cloudtrail-digest, cloudtrail-insight, vpcflow, waf, route53-resolver, alb)")]
pub struct UnknownKind(pub String);

impl FromStr for Kind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| UnknownKind(s.to_owned()))
    }
}

/// What the key says besides the kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placed<'k> {
    /// The kind.
    pub kind: Kind,
    /// The account in the key (`AWSLogs/<account>/…`), when there is one.
    pub account: Option<&'k str>,
    /// The region in the key, when the layout has one.
    pub region: Option<&'k str>,
}

/// A rule `S3_KIND_RULES` is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// An entry without `=`.
    #[error("`{0}` is not prefix=kind")]
    NotARule(String),
    /// An unknown kind.
    #[error(transparent)]
    Kind(#[from] UnknownKind),
}

/// Prefix → kind rules for custom layouts, tried before AWS's layouts, longest prefix first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KindRules(Vec<(String, Kind)>);

impl FromStr for KindRules {
    type Err = RuleError;

    /// `prefix=kind,prefix=kind` (empty: no rules).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut rules = s
            .split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(|r| {
                let (prefix, kind) = r.split_once('=').ok_or_else(|| RuleError::NotARule(r.to_owned()))?;
                Ok((prefix.trim().to_owned(), kind.trim().parse()?))
            })
            .collect::<Result<Vec<_>, RuleError>>()?;
        rules.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        Ok(Self(rules))
    }
}

impl KindRules {
    /// Where `key` belongs: a rule's kind, else AWS's layout; `None` when nothing matches.
    #[must_use]
    pub fn place<'k>(&self, key: &'k str) -> Option<Placed<'k>> {
        if let Some((_, kind)) = self.0.iter().find(|(prefix, _)| key.starts_with(prefix.as_str())) {
            let aws = aws_layout(key);
            return Some(Placed {
                kind: *kind,
                account: aws.and_then(|p| p.account),
                region: aws.and_then(|p| p.region),
            });
        }
        aws_layout(key)
    }
}

/// Why a key is of no known layout, for its dead letter.
#[must_use]
pub fn why_unknown(key: &str) -> &'static str {
    if key.contains("/vpcflowlogs/") && key.ends_with(".parquet") {
        "a Parquet flow-log file: flow logs are read as text (deliver them in the plain-text format)"
    } else {
        "the key matches none of AWS's log layouts and no S3_KIND_RULES prefix"
    }
}

/// The kind of `key` by AWS's layouts.
#[must_use]
pub fn aws_layout(key: &str) -> Option<Placed<'_>> {
    let (_, after) = key.split_once("AWSLogs/")?;
    let mut parts = after.split('/');
    let mut account = parts.next()?;
    if account.starts_with("o-") {
        account = parts.next()?;
    }
    let service = parts.next()?;
    let scope = parts.next().filter(|s| !s.is_empty());
    // The file's type, gzipped or not: `json` of `….json.gz`.
    let file = key.rsplit('/').next().unwrap_or_default();
    let extension = file.strip_suffix(".gz").unwrap_or(file).rsplit_once('.').map_or("", |(_, e)| e);
    let kind = match (service, extension) {
        ("CloudTrail", "json") => Kind::CloudTrail,
        ("CloudTrail-Digest", _) => Kind::CloudTrailDigest,
        ("CloudTrail-Insight", "json") => Kind::CloudTrailInsight,
        ("vpcflowlogs", "log") => Kind::VpcFlow,
        ("WAFLogs", "log") => Kind::Waf,
        ("vpcdnsquerylogs", "log") => Kind::Route53Resolver,
        ("elasticloadbalancing", "log") => Kind::Alb,
        _ => return None,
    };
    // Resolver query logs are kept per VPC, not per region.
    let region = scope.filter(|_| kind != Kind::Route53Resolver && account.bytes().all(|b| b.is_ascii_digit()));
    Some(Placed { kind, account: Some(account).filter(|a| !a.is_empty()), region })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_layouts_name_their_kind_account_and_region() {
        let place = |key| KindRules::default().place(key).map(|p| (p.kind, p.account, p.region));
        let ct = "logs/AWSLogs/o-abc123/111122223333/CloudTrail/eu-west-1/2026/11/30/111122223333_CloudTrail_eu-west-1_20261130T2235Z_x.json.gz";
        assert_eq!(place(ct), Some((Kind::CloudTrail, Some("111122223333"), Some("eu-west-1"))));
        let digest = "AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2026/11/30/x_CloudTrail-Digest_x.json.gz";
        assert_eq!(place(digest).map(|p| p.0), Some(Kind::CloudTrailDigest));
        let insight = "AWSLogs/111122223333/CloudTrail-Insight/eu-west-1/2026/11/30/x.json.gz";
        assert_eq!(place(insight).map(|p| p.0), Some(Kind::CloudTrailInsight));
        let vpc = "AWSLogs/111122223333/vpcflowlogs/eu-west-1/2026/11/30/111122223333_vpcflowlogs_eu-west-1_fl-1_20261130T2235Z_h.log.gz";
        assert_eq!(place(vpc), Some((Kind::VpcFlow, Some("111122223333"), Some("eu-west-1"))));
        let waf = "AWSLogs/111122223333/WAFLogs/cloudfront/acl/2026/11/30/22/35/x.log.gz";
        assert_eq!(place(waf), Some((Kind::Waf, Some("111122223333"), Some("cloudfront"))));
        let dns = "AWSLogs/111122223333/vpcdnsquerylogs/vpc-0abc/2026/11/30/vpc-0abc.log.gz";
        assert_eq!(place(dns), Some((Kind::Route53Resolver, Some("111122223333"), None)));
        let alb = "AWSLogs/111122223333/elasticloadbalancing/eu-west-1/2026/11/30/111122223333_elasticloadbalancing_eu-west-1_app.web.50dc6c495c0c9188_20261130T2235Z_203.0.113.9_x.log.gz";
        assert_eq!(place(alb), Some((Kind::Alb, Some("111122223333"), Some("eu-west-1"))));
    }

    #[test]
    fn anything_else_is_unknown_never_guessed() {
        let rules = KindRules::default();
        for key in [
            "",
            "notes.txt",
            "AWSLogs/",
            "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/30/readme.txt",
            "AWSLogs/111122223333/Config/eu-west-1/2026/11/30/x.json.gz",
            "AWSLogs/111122223333/vpcflowlogs/eu-west-1/2026/11/30/x.parquet",
        ] {
            assert_eq!(rules.place(key), None, "{key}");
        }
    }

    #[test]
    fn rules_come_first_longest_prefix_first_and_bad_rules_are_refused() {
        let rules: KindRules = "exports/=waf, exports/alb/=alb ,".parse().unwrap();
        assert_eq!(rules.place("exports/alb/2026/x.gz").map(|p| p.kind), Some(Kind::Alb));
        assert_eq!(rules.place("exports/waf/x.gz").map(|p| p.kind), Some(Kind::Waf));
        assert_eq!(rules.place("other/x.gz"), None);
        assert_eq!("".parse::<KindRules>(), Ok(KindRules::default()));
        assert_eq!("exports".parse::<KindRules>(), Err(RuleError::NotARule("exports".into())));
        assert_eq!(
            "x/=nginx".parse::<KindRules>().unwrap_err().to_string(),
            "`nginx` is not a log kind (one of cloudtrail, cloudtrail-digest, cloudtrail-insight, vpcflow, waf, route53-resolver, alb)"
        );
    }
}
