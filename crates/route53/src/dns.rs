//! What both kinds of query log share: the question's name and its derived signals, answers and
//! response codes, as ECS `dns.*` fields.
//!
//! Names arrive in DNS presentation form: a trailing dot for the root, and bytes that are not
//! printable ASCII (or are `.`/`\` inside a label) escaped as `\DDD` (decimal) or `\X`. The name
//! is kept in that form (so it is exactly what was queried, and valid UTF-8); the label signals
//! (length, entropy) count the *decoded* bytes, which is what a tunnel encodes data into.

use std::borrow::Cow;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// The question of a query.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Question<'a> {
    /// The queried name without its trailing dot (`example.com`; the root is the empty name).
    pub name: Cow<'a, str>,
    /// The record type asked for (`A`, `AAAA`, `PTR`, …).
    #[serde(rename = "type")]
    pub kind: Option<Cow<'a, str>>,
    /// The class (`IN`).
    pub class: Option<Cow<'a, str>>,
    /// The registrable domain under a public suffix (`example.co.uk`), when the suffix is one of
    /// the public suffix list's.
    pub registered_domain: Option<String>,
    /// The public suffix (`co.uk`), when it is one of the list's.
    pub top_level_domain: Option<String>,
    /// What comes before the registered domain (`www` of `www.example.co.uk`).
    pub subdomain: Option<String>,
    /// The number of labels (`www.example.com` has 3).
    pub label_count: usize,
    /// Signals of the left-most label.
    pub first_label: Option<LabelSignals>,
}

/// Length and Shannon entropy of a label: long, high-entropy left-most labels are what DNS
/// tunnels and generated domains look like.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LabelSignals {
    /// Decoded bytes.
    pub length: usize,
    /// Shannon entropy in bits per byte, rounded to 4 decimals (0 for one repeated byte, at most
    /// 8; about 4 for random lower-case letters and digits).
    pub entropy: f64,
}

impl<'a> Question<'a> {
    /// The question of `name` in presentation form (trailing dot or not).
    #[must_use]
    pub fn new(name: Cow<'a, str>, kind: Option<Cow<'a, str>>, class: Option<Cow<'a, str>>) -> Self {
        let name = match name {
            Cow::Borrowed(s) => Cow::Borrowed(trim_root(s)),
            Cow::Owned(s) => Cow::Owned(trim_root(&s).to_owned()),
        };
        let labels = labels(&name);
        let first_label = labels.first().map(|l| signals(&unescape(l)));
        let (registered_domain, top_level_domain, subdomain) = registered(&name);
        Self {
            label_count: labels.len(),
            first_label,
            registered_domain,
            top_level_domain,
            subdomain,
            name,
            kind,
            class,
        }
    }
}

/// `name` without the root's trailing dot (an escaped `\.` at the end is part of the label).
fn trim_root(name: &str) -> &str {
    match name.strip_suffix('.') {
        Some(rest) if !ends_escaped(rest) => rest,
        _ => name,
    }
}

/// Whether the character after `s` would be escaped (an odd number of trailing backslashes).
fn ends_escaped(s: &str) -> bool {
    s.bytes().rev().take_while(|&b| b == b'\\').count() % 2 == 1
}

/// The labels of a name in presentation form, split at unescaped dots.
fn labels(name: &str) -> Vec<&str> {
    if name.is_empty() {
        return Vec::new();
    }
    let bytes = name.as_bytes();
    let mut out = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'.' => {
                out.push(&name[start..i]);
                start = i + 1;
                i += 1;
            }
            _ => i += 1,
        }
    }
    out.push(&name[start.min(name.len())..]);
    out
}

/// A label's bytes: `\DDD` is the byte of decimal value DDD, `\X` is X.
fn unescape(label: &str) -> Vec<u8> {
    let bytes = label.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 1 < bytes.len() {
            let digits = &bytes[i + 1..bytes.len().min(i + 4)];
            if digits.len() == 3 && digits.iter().all(u8::is_ascii_digit) {
                let value = digits.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
                if let Ok(byte) = u8::try_from(value) {
                    out.push(byte);
                    i += 4;
                    continue;
                }
            }
            out.push(bytes[i + 1]);
            i += 2;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

fn signals(label: &[u8]) -> LabelSignals {
    let mut counts = [0u32; 256];
    for &b in label {
        counts[usize::from(b.to_ascii_lowercase())] += 1;
    }
    #[allow(clippy::cast_precision_loss)]
    let len = label.len() as f64;
    let entropy: f64 = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / len;
            -p * p.log2()
        })
        .sum();
    LabelSignals { length: label.len(), entropy: (entropy * 10_000.0).round() / 10_000.0 + 0.0 }
}

/// `(registered domain, public suffix, subdomain)` from the public suffix list, for names whose
/// suffix is on the list (`ec2.internal` is not).
fn registered(name: &str) -> (Option<String>, Option<String>, Option<String>) {
    let lower = name.to_ascii_lowercase();
    let Some(suffix) = psl::suffix(lower.as_bytes()).filter(psl::Suffix::is_known) else {
        return (None, None, None);
    };
    let suffix_text = String::from_utf8_lossy(suffix.as_bytes()).into_owned();
    let Some(domain) = psl::domain(lower.as_bytes()) else {
        // The name is itself a public suffix (`co.uk`).
        return (None, Some(suffix_text), None);
    };
    let domain_len = domain.as_bytes().len();
    let domain_text = String::from_utf8_lossy(domain.as_bytes()).into_owned();
    let subdomain = (lower.len() > domain_len + 1).then(|| lower[..lower.len() - domain_len - 1].to_owned());
    (Some(domain_text), Some(suffix_text), subdomain)
}

/// One answer of a Resolver query log, as it arrives.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RawAnswer<'a> {
    /// The record data.
    #[serde(rename = "Rdata", borrow)]
    pub rdata: Option<Cow<'a, str>>,
    /// The record type.
    #[serde(rename = "Type", borrow)]
    pub kind: Option<Cow<'a, str>>,
    /// The class.
    #[serde(rename = "Class", borrow)]
    pub class: Option<Cow<'a, str>>,
}

/// One answer as ECS `dns.answers[]`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Answer<'a> {
    /// The record data (an address, a name without its trailing dot, text).
    pub data: Option<Cow<'a, str>>,
    /// The record type.
    #[serde(rename = "type")]
    pub kind: Option<Cow<'a, str>>,
    /// The class.
    pub class: Option<Cow<'a, str>>,
}

/// The answers in ECS form, and every address among them (`dns.resolved_ip`).
#[must_use]
pub fn answers(raw: Vec<RawAnswer<'_>>) -> (Vec<Answer<'_>>, Vec<IpAddr>) {
    let mut ips = Vec::new();
    let answers = raw
        .into_iter()
        .map(|a| {
            if let Some(ip) = a.rdata.as_deref().and_then(|d| d.parse::<IpAddr>().ok()) {
                if !ips.contains(&ip) {
                    ips.push(ip);
                }
            }
            let data = a.rdata.map(|d| match d {
                Cow::Borrowed(s) => Cow::Borrowed(trim_root(s)),
                Cow::Owned(s) => Cow::Owned(trim_root(&s).to_owned()),
            });
            Answer { data, kind: a.kind, class: a.class }
        })
        .collect();
    (answers, ips)
}

/// The `dns` block of a document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dns<'a> {
    /// `query`: a log line describes a query and how it was answered.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The question.
    pub question: Question<'a>,
    /// `NOERROR`, `NXDOMAIN`, `SERVFAIL`, …
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_code: Option<Cow<'a, str>>,
    /// The answers (Resolver query logs only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub answers: Vec<Answer<'a>>,
    /// Every address among the answers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resolved_ip: Vec<IpAddr>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(name: &str) -> Question<'_> {
        Question::new(Cow::Borrowed(name), None, None)
    }

    #[test]
    fn registered_domain_suffix_and_subdomain() {
        let question = q("www.Example.co.uk.");
        assert_eq!(question.name, "www.Example.co.uk");
        assert_eq!(question.registered_domain.as_deref(), Some("example.co.uk"));
        assert_eq!(question.top_level_domain.as_deref(), Some("co.uk"));
        assert_eq!(question.subdomain.as_deref(), Some("www"));
        assert_eq!(question.label_count, 4);
        let apex = q("example.com");
        assert_eq!((apex.registered_domain.as_deref(), apex.subdomain), (Some("example.com"), None));
        let ptr = q("15.3.4.32.in-addr.arpa.");
        assert_eq!(ptr.top_level_domain.as_deref(), Some("in-addr.arpa"));
        assert_eq!(ptr.registered_domain.as_deref(), Some("32.in-addr.arpa"));
        // Not on the list: no registered domain rather than a made-up one.
        let internal = q("ip-172-31-86-159.ec2.internal.");
        assert_eq!((internal.registered_domain, internal.top_level_domain), (None, None));
        let suffix_only = q("co.uk");
        assert_eq!((suffix_only.registered_domain, suffix_only.top_level_domain.as_deref()), (None, Some("co.uk")));
    }

    #[test]
    fn root_and_empty_names() {
        for name in [".", ""] {
            let root = q(name);
            assert_eq!((root.name.as_ref(), root.label_count, root.first_label), ("", 0, None));
        }
    }

    #[test]
    fn escapes_are_decoded_for_the_signals_and_kept_in_the_name() {
        // `\032` is a space, `\.` a dot inside the label, `\195\169` the UTF-8 of `é`.
        let question = q("a\\032b\\.c.caf\\195\\169.example.com.");
        assert_eq!(question.name, "a\\032b\\.c.caf\\195\\169.example.com");
        assert_eq!(question.label_count, 4);
        assert_eq!(question.first_label.unwrap().length, 5);
        assert_eq!(unescape("caf\\195\\169"), "café".as_bytes());
        assert_eq!(unescape("x\\"), b"x\\");
        assert_eq!(unescape("\\999"), b"999");
        // A trailing escaped dot is part of the label, not the root.
        assert_eq!(q("odd\\.").name, "odd\\.");
        assert_eq!(q("odd\\\\.").name, "odd\\\\");
    }

    #[test]
    fn entropy_of_labels() {
        assert!((q("aaaa.example.com").first_label.unwrap().entropy).abs() < f64::EPSILON);
        assert!((q("abcd.example.com").first_label.unwrap().entropy - 2.0).abs() < f64::EPSILON);
        let tunnel = q("mzxw6ytboi4dsnrtgq2tmnzygezdcmrtgq2tmnzy.t.example.com").first_label.unwrap();
        assert_eq!(tunnel.length, 40);
        assert!(tunnel.entropy > 3.5, "{}", tunnel.entropy);
        // Case does not add entropy: DNS names are case-insensitive.
        assert_eq!(q("AbCd.x.com").first_label, q("abcd.x.com").first_label);
    }

    #[test]
    fn answers_and_resolved_addresses() {
        let raw: Vec<RawAnswer<'_>> = serde_json::from_str(
            r#"[{"Rdata":"d1.cloudfront.net.","Type":"CNAME","Class":"IN"},{"Rdata":"203.0.113.9","Type":"A","Class":"IN"},
                {"Rdata":"203.0.113.9","Type":"A","Class":"IN"},{"Rdata":"2001:db8::1","Type":"AAAA","Class":"IN"},{}]"#,
        )
        .unwrap();
        let (answers, ips) = answers(raw);
        assert_eq!(answers[0].data.as_deref(), Some("d1.cloudfront.net"));
        assert_eq!(answers.len(), 5);
        assert_eq!(ips, ["203.0.113.9".parse::<IpAddr>().unwrap(), "2001:db8::1".parse().unwrap()]);
    }
}
