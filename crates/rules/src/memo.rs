//! What the DNS rules found for the queries seen last.
//!
//! DNS logs ask the same few names over and over, and a query's detection depends only on the
//! fields the DNS rules read (the name, its type, …), so it is kept, by those fields, for the next
//! time: the rules are evaluated once per distinct query instead of once per record. The memo is
//! bounded (it starts again empty when full) and shared by the invocations of one container.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use rsigma_eval::{CompiledDetection, CompiledRule};

use crate::{Detection, DnsQuery};

/// Distinct queries kept at most (a few hundred kilobytes).
const CAPACITY: usize = 4096;

#[derive(Debug, Default)]
pub(crate) struct DnsMemo {
    /// Whether the rules read `srcaddr`: the asking address varies with every client, so it is
    /// part of the key only when a rule reads it.
    reads_srcaddr: bool,
    seen: Mutex<HashMap<Vec<u8>, Detection>>,
}

impl DnsMemo {
    /// A memo for the DNS engine's compiled `rules`.
    pub(crate) fn new(rules: &[CompiledRule]) -> Self {
        let reads_srcaddr = fields_read(rules).is_none_or(|fields| fields.contains("srcaddr"));
        Self { reads_srcaddr, seen: Mutex::new(HashMap::new()) }
    }

    /// The detection of `query`: kept, or made by `evaluate` and kept.
    pub(crate) fn get_or(&self, query: &DnsQuery<'_>, evaluate: impl FnOnce() -> Detection) -> Detection {
        let Ok(mut seen) = self.seen.lock() else { return evaluate() };
        if seen.len() >= CAPACITY {
            seen.clear();
        }
        seen.entry(self.key(query)).or_insert_with(evaluate).clone()
    }

    /// Every field a DNS rule can read, each written with its length (or a marker when absent),
    /// so two different queries never share a key.
    fn key(&self, query: &DnsQuery<'_>) -> Vec<u8> {
        fn push(key: &mut Vec<u8>, value: Option<&str>) {
            match value {
                Some(s) => {
                    key.push(1);
                    key.extend_from_slice(&s.len().to_le_bytes());
                    key.extend_from_slice(s.as_bytes());
                }
                None => key.push(0),
            }
        }
        let mut key = Vec::with_capacity(query.query_name.len() + 64);
        push(&mut key, Some(&query.query_name));
        push(&mut key, query.query_type.as_deref());
        push(&mut key, query.rcode.as_deref());
        push(&mut key, if self.reads_srcaddr { query.srcaddr.as_deref() } else { None });
        key.extend_from_slice(&query.answers.len().to_le_bytes());
        query.answers.iter().for_each(|a| push(&mut key, Some(a)));
        key
    }

    /// How many queries are kept (for the tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.seen.lock().map_or(0, |seen| seen.len())
    }
}

/// The fields `rules` read; `None` when a rule may read any (a keyword search).
fn fields_read(rules: &[CompiledRule]) -> Option<BTreeSet<&str>> {
    fn walk<'r>(detection: &'r CompiledDetection, out: &mut BTreeSet<&'r str>) -> Option<()> {
        match detection {
            CompiledDetection::AllOf(items) => {
                for item in items {
                    out.insert(item.field.as_deref()?);
                }
            }
            CompiledDetection::AnyOf(parts) | CompiledDetection::And(parts) => {
                for part in parts {
                    walk(part, out)?;
                }
            }
            CompiledDetection::ArrayMatch { field, .. } => {
                out.insert(field);
            }
            CompiledDetection::Keywords(_) | CompiledDetection::Conditional { .. } => return None,
        }
        Some(())
    }
    let mut fields = BTreeSet::new();
    for rule in rules {
        for detection in rule.detections.values() {
            walk(detection, &mut fields)?;
        }
    }
    Some(fields)
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use crate::{DnsQuery, RuleSet, RulesConfig};

    fn query<'a>(name: &'a str, kind: &'a str, answers: &[&'a str], from: &'a str) -> DnsQuery<'a> {
        DnsQuery {
            query_type: Some(Cow::Borrowed(kind)),
            rcode: Some(Cow::Borrowed("NOERROR")),
            answers: answers.iter().map(|a| Cow::Borrowed(*a)).collect(),
            srcaddr: Some(Cow::Borrowed(from)),
            ..DnsQuery::new(Cow::Borrowed(name))
        }
    }

    #[test]
    fn a_query_asked_again_gets_the_same_detection_without_being_evaluated_again() {
        let rules = RuleSet::load(&RulesConfig::bundled()).unwrap();
        // No bundled DNS rule reads the asking address: one entry for each name, type and answers.
        let queries = [
            query("api.telegram.org", "A", &[], "10.0.0.1"),
            query("api.telegram.org", "A", &[], "10.0.0.2"),
            query("example.com", "A", &[], "10.0.0.1"),
            query("example.com", "TXT", &["powershell IEX (New-Object Net.WebClient)"], "10.0.0.1"),
            query("example.com", "TXT", &["v=spf1 -all"], "10.0.0.1"),
            query("example.com", "TXT", &["v=spf1 -all"], "10.0.0.3"),
        ];
        let first: Vec<_> = queries.iter().map(|q| rules.dns(q)).collect();
        assert_eq!(rules.dns_memo.len(), 4);
        let again: Vec<_> = queries.iter().map(|q| rules.dns(q)).collect();
        assert_eq!(again, first);
        assert_eq!(rules.dns_memo.len(), 4);
        // The memo keeps what the engine finds, matches included.
        for (q, detection) in queries.iter().zip(&first) {
            assert_eq!(*detection, crate::Detection::of(rules.dns.evaluate(q)));
        }
        let matched: Vec<bool> = first.iter().map(|d| !d.is_empty()).collect();
        assert_eq!(matched, [true, true, false, true, false, false]);
    }

    #[test]
    fn keys_of_different_queries_differ() {
        let memo = super::DnsMemo { reads_srcaddr: true, ..Default::default() };
        let keys = [
            memo.key(&query("a", "A", &[], "x")),
            memo.key(&query("a", "A", &[""], "x")),
            memo.key(&query("a", "A", &["", ""], "x")),
            memo.key(&query("a", "A", &[], "y")),
            memo.key(&DnsQuery::new(Cow::Borrowed("a"))),
            memo.key(&query("a-", "A", &[], "x")),
            memo.key(&query("1:a", "A", &[], "x")),
        ];
        let distinct: std::collections::BTreeSet<_> = keys.iter().collect();
        assert_eq!(distinct.len(), keys.len(), "{keys:?}");
    }
}
