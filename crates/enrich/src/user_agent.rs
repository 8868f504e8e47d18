//! What kind of client a `CloudTrail` `userAgent` is.
//!
//! `CloudTrail` user agents are not browser strings: they are AWS SDK and tool identifiers
//! (`aws-cli/2.15.0 … botocore/2.0`, `Boto3/1.34 …`, `APN/1.0 HashiCorp/1.0 Terraform/1.6 …
//! aws-sdk-go-v2/…`), service principals (`cloudformation.amazonaws.com`), `AWS Internal`, or a
//! browser's string for console sign-ins. General user-agent parsers classify browsers, so the
//! rules here are our own, checked in order: the most specific tool wins (the CLI and Terraform
//! name the SDK they are built on after themselves).
//!
//! A user agent naming a penetration-testing distribution (Kali, Parrot, Pentoo: the operating
//! system part of an SDK's agent, `Linux/6.5.0-kali3-amd64`) is flagged, as `GuardDuty` does
//! with its `PenTest:IAMUser/*` findings.
//!
//! ```
//! use seclog_enrich::user_agent::{classify, Category};
//! let ua = classify("aws-cli/2.15.0 Python/3.11.6 Linux/6.5.0-kali3-amd64 exe/x86_64.kali.2023 botocore/2.0");
//! assert_eq!((ua.category, ua.name, ua.pentest), (Category::Cli, "AWS CLI", true));
//! assert_eq!(ua.os.map(|o| o.name), Some("Kali Linux"));
//! ```
//!
//! A document carries an agent as a [`Logged`]: the text, then its classification.

use std::borrow::Cow;

use serde::Serialize;

/// The kind of client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// The AWS Management Console (its own agents and its sign-in service).
    Console,
    /// A command-line tool: the AWS CLI, AWS Tools for `PowerShell`.
    Cli,
    /// An AWS SDK used by a program.
    Sdk,
    /// Infrastructure as code: Terraform, CDK, `CloudFormation`, Pulumi.
    Iac,
    /// AWS acting on its own or for a service (`AWS Internal`, `*.amazonaws.com`).
    AwsInternal,
    /// A web browser (console sign-in events carry the browser's string).
    Browser,
    /// Anything else.
    Other,
}

/// ECS `user_agent.os`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Os {
    /// `Kali Linux`, `Parrot OS`, `Pentoo`.
    pub name: &'static str,
}

/// What a user agent says about its client.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct UserAgent {
    /// `AWS CLI`, `Boto3`, `AWS SDK for Java`, `Terraform`, …
    pub name: &'static str,
    /// The kind of client.
    pub category: Category,
    /// The SDK's language, for [`Category::Sdk`] (and tools built on one).
    pub language: Option<&'static str>,
    /// A penetration-testing distribution, when the agent names one.
    pub os: Option<Os>,
    /// Whether the agent names a penetration-testing distribution.
    pub pentest: bool,
}

/// `(marker, name, category, language)`: the first marker found (case-insensitive) decides.
const RULES: &[(&str, &str, Category, Option<&str>)] = &[
    ("aws-internal/", "AWS Internal", Category::AwsInternal, None),
    ("terraform", "Terraform", Category::Iac, Some("go")),
    ("pulumi", "Pulumi", Category::Iac, None),
    ("aws-cdk/", "AWS CDK", Category::Iac, None),
    ("cloudformation", "AWS CloudFormation", Category::Iac, None),
    ("aws-cli/", "AWS CLI", Category::Cli, Some("python")),
    ("awspowershell", "AWS Tools for PowerShell", Category::Cli, Some("dotnet")),
    ("aws-sdk-powershell", "AWS Tools for PowerShell", Category::Cli, Some("dotnet")),
    ("boto3/", "Boto3", Category::Sdk, Some("python")),
    ("botocore/", "Botocore", Category::Sdk, Some("python")),
    ("aws-sdk-java", "AWS SDK for Java", Category::Sdk, Some("java")),
    ("aws-sdk-go", "AWS SDK for Go", Category::Sdk, Some("go")),
    ("aws-sdk-js", "AWS SDK for JavaScript", Category::Sdk, Some("javascript")),
    ("aws-sdk-nodejs", "AWS SDK for JavaScript", Category::Sdk, Some("javascript")),
    ("aws-sdk-rust", "AWS SDK for Rust", Category::Sdk, Some("rust")),
    ("aws-sdk-dotnet", "AWS SDK for .NET", Category::Sdk, Some("dotnet")),
    ("aws-sdk-net", "AWS SDK for .NET", Category::Sdk, Some("dotnet")),
    ("aws-sdk-php", "AWS SDK for PHP", Category::Sdk, Some("php")),
    ("aws-sdk-ruby", "AWS SDK for Ruby", Category::Sdk, Some("ruby")),
    ("aws-sdk-cpp", "AWS SDK for C++", Category::Sdk, Some("cpp")),
    ("aws-sdk-kotlin", "AWS SDK for Kotlin", Category::Sdk, Some("kotlin")),
    ("aws-sdk-swift", "AWS SDK for Swift", Category::Sdk, Some("swift")),
    ("aws-sdk-iphone", "AWS Mobile SDK for iOS", Category::Sdk, Some("swift")),
    ("aws-sdk-android", "AWS Mobile SDK for Android", Category::Sdk, Some("java")),
    ("aws-amplify", "AWS Amplify", Category::Sdk, Some("javascript")),
    ("mozilla/", "Browser", Category::Browser, None),
];

/// Service principals that are the console.
const CONSOLE_HOSTS: &[&str] = &["console.amazonaws.com", "signin.amazonaws.com", "console.aws.amazon.com"];

/// `(token, distribution)`.
const PENTEST: &[(&str, &str)] = &[("kali", "Kali Linux"), ("parrot", "Parrot OS"), ("pentoo", "Pentoo")];

/// A user agent as documents carry it (ECS `user_agent.*`): the text as logged, then what it says
/// about its client, flattened (`name`, `category`, `language`, `os`, `pentest`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Logged<'a> {
    /// As logged.
    pub original: Cow<'a, str>,
    /// What it says about its client.
    #[serde(flatten)]
    pub kind: UserAgent,
}

impl<'a> Logged<'a> {
    /// `original` and its [classification](classify); `None` for an empty agent.
    #[must_use]
    pub fn of(original: Cow<'a, str>) -> Option<Self> {
        (!original.is_empty()).then(|| Self { kind: classify(&original), original })
    }
}

/// Classifies a `CloudTrail` user agent.
#[must_use]
pub fn classify(agent: &str) -> UserAgent {
    let lower = agent.trim().to_ascii_lowercase();
    let os = PENTEST.iter().find(|(token, _)| names_token(&lower, token)).map(|&(_, name)| Os { name });
    let (name, category, language) = kind(&lower);
    UserAgent { name, category, language, os, pentest: os.is_some() }
}

fn kind(lower: &str) -> (&'static str, Category, Option<&'static str>) {
    if lower == "aws internal" || lower.starts_with("aws internal/") {
        return ("AWS Internal", Category::AwsInternal, None);
    }
    if CONSOLE_HOSTS.iter().any(|h| lower == *h || lower.starts_with(&format!("{h} "))) {
        return ("AWS Management Console", Category::Console, None);
    }
    if let Some(&(_, name, category, language)) = RULES.iter().find(|(marker, ..)| lower.contains(marker)) {
        return (name, category, language);
    }
    if lower.ends_with(".amazonaws.com") || lower.ends_with(".amazonaws.com.cn") {
        return ("AWS service", Category::AwsInternal, None);
    }
    ("Other", Category::Other, None)
}

/// Whether `token` stands in `s` as a word of its own: not inside a longer word
/// (`kali3`, `-kali`, `.kali.` count; `kalimba` does not).
fn names_token(s: &str, token: &str) -> bool {
    s.match_indices(token).any(|(at, _)| {
        let before = s[..at].chars().next_back();
        let after = s[at + token.len()..].chars().next();
        !before.is_some_and(char::is_alphabetic) && !after.is_some_and(char::is_alphabetic)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_logged_agent_is_its_text_then_its_classification() {
        assert_eq!(Logged::of(Cow::Borrowed("")), None);
        let logged = Logged::of(Cow::Borrowed("aws-cli/2.15.0 Python/3.11.6")).unwrap();
        assert_eq!(
            serde_json::to_string(&logged).unwrap(),
            r#"{"original":"aws-cli/2.15.0 Python/3.11.6","name":"AWS CLI","category":"cli","language":"python","pentest":false}"#
        );
    }
}
