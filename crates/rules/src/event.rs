//! The records rules are evaluated against, as Sigma's evaluator sees them.
//!
//! - [`CloudTrailRecord`]: a `CloudTrail` record as `CloudTrail` wrote it, read through the
//!   transform's [`RawObject`] without parsing it again. A top-level field costs a lookup; a dotted
//!   path (`responseElements.ConsoleLogin`) parses only that one object, and a nested field the
//!   transform has already read (`userIdentity.type`, [`Known`]) costs nothing more.
//! - [`DnsQuery`]: one Route 53 query, Resolver or public, under the Resolver's field names; the
//!   field map `rules/pipelines/route53-dns.yml` renames the DNS rules' fields onto them.

use std::borrow::Cow;
use std::cell::{OnceCell, RefCell};

use rsigma_eval::event::{Event, EventValue, JsonEvent};
use seclog_core::json::{str_of, RawObject};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// A `CloudTrail` record, for rule evaluation.
pub struct CloudTrailRecord<'r, 'a> {
    record: &'r RawObject<'a>,
    /// Nested fields the caller has already read, by path.
    known: &'r [(&'static str, Known<'r>)],
    /// Objects scanned so far (`userIdentity`, `userIdentity.sessionContext`), by where their raw
    /// JSON starts in the record's text, so each is scanned once per record however many rules
    /// (and index probes) read paths inside it. `None`: the value there is not an object.
    objects: RefCell<Vec<(*const u8, Option<RawObject<'a>>)>>,
    /// The whole record as a tree, built only for keyword rules and correlation snapshots.
    whole: OnceCell<Value>,
}

impl<'r, 'a> CloudTrailRecord<'r, 'a> {
    /// Wraps a parsed record.
    #[must_use]
    pub fn new(record: &'r RawObject<'a>) -> Self {
        Self::with_known(record, &[])
    }

    /// Wraps a parsed record with nested fields the caller has already read from it (the
    /// `CloudTrail` transform reads `userIdentity` for its own block): the rules read those paths
    /// from `known` instead of scanning the objects on the way. Each must be what the record
    /// holds at that path, as [`Event::get_field`] would read it.
    #[must_use]
    pub fn with_known(record: &'r RawObject<'a>, known: &'r [(&'static str, Known<'r>)]) -> Self {
        Self { record, known, objects: RefCell::new(Vec::new()), whole: OnceCell::new() }
    }

    fn whole(&self) -> &Value {
        self.whole.get_or_init(|| {
            let mut map = Map::with_capacity(self.record.0.len());
            for (key, raw) in &self.record.0 {
                map.insert(key.0.to_string(), serde_json::from_str(raw.get()).unwrap_or(Value::Null));
            }
            Value::Object(map)
        })
    }

    /// One step of a dotted path: `rest` read inside the object whose raw JSON is `raw`.
    fn inside(&self, raw: &'a RawValue, rest: &str) -> Step<'a> {
        let mut objects = self.objects.borrow_mut();
        let at = raw.get().as_ptr();
        let slot = objects.iter().position(|(p, _)| *p == at).unwrap_or_else(|| {
            let text = raw.get().trim_start();
            let parsed = if text.starts_with('{') { serde_json::from_str(text).ok() } else { None };
            objects.push((at, parsed));
            objects.len() - 1
        });
        let Some(object) = &objects[slot].1 else { return Step::NotObject };
        if let Some(value) = object.get(rest) {
            return Step::Found(value);
        }
        match rest.split_once('.') {
            Some((inner, _)) => object.get(inner).map_or(Step::Missing, |value| Step::Down(value, inner.len())),
            None => Step::Missing,
        }
    }
}

/// A nested field of a record, as its reader found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Known<'k> {
    /// Not in the record (or an object on the way is absent or `null`).
    Absent,
    /// JSON `null`.
    Null,
    /// A string.
    Str(&'k str),
}

/// Where one step of a dotted path leads.
enum Step<'a> {
    /// The value (the rest of the path was a key).
    Found(&'a RawValue),
    /// One level down: the value of the first segment, and that segment's length.
    Down(&'a RawValue, usize),
    /// The value on the way is not an object (an array).
    NotObject,
    Missing,
}

impl Event for CloudTrailRecord<'_, '_> {
    fn get_field(&self, path: &str) -> Option<EventValue<'_>> {
        if let Some(raw) = self.record.get(path) {
            return Some(raw_value(raw));
        }
        if let Some((_, known)) = self.known.iter().find(|(p, _)| *p == path) {
            return match known {
                Known::Absent => None,
                Known::Null => Some(EventValue::Null),
                Known::Str(s) => Some(EventValue::Str(Cow::Borrowed(s))),
            };
        }
        let (head, _) = path.split_once('.')?;
        let mut raw = self.record.get(head)?;
        let mut at = head.len();
        loop {
            let rest = &path[at + 1..];
            match self.inside(raw, rest) {
                Step::Found(value) => return Some(raw_value(value)),
                Step::Down(value, len) => {
                    raw = value;
                    at += 1 + len;
                }
                // An array on the way: read the way Sigma reads it.
                Step::NotObject => return nested(raw, rest),
                Step::Missing => return None,
            }
        }
    }

    fn any_string_value(&self, pred: &dyn Fn(&str) -> bool) -> bool {
        JsonEvent::borrow(self.whole()).any_string_value(pred)
    }

    fn all_string_values(&self) -> Vec<Cow<'_, str>> {
        let mut out = Vec::new();
        collect_strings(self.whole(), &mut out);
        out
    }

    fn to_json(&self) -> Value {
        self.whole().clone()
    }

    fn top_level_keys(&self) -> Option<Vec<Cow<'_, str>>> {
        Some(self.record.0.iter().map(|(k, _)| Cow::Borrowed(k.0.as_ref())).collect())
    }

    fn visit_top_level_keys(&self, visit: &mut dyn FnMut(&str)) -> bool {
        self.record.0.iter().for_each(|(k, _)| visit(&k.0));
        true
    }
}

/// One DNS query, Resolver or public, under the Resolver's field names.
#[derive(Debug, Clone, Default)]
pub struct DnsQuery<'a> {
    /// The name queried, without its trailing dot (`query`).
    pub query_name: Cow<'a, str>,
    /// `A`, `AAAA`, `TXT`, … (`record_type`).
    pub query_type: Option<Cow<'a, str>>,
    /// `NOERROR`, `NXDOMAIN`, … (`response_code`).
    pub rcode: Option<Cow<'a, str>>,
    /// The answers' data (`answer`).
    pub answers: Vec<Cow<'a, str>>,
    /// The address that asked (`src_ip`).
    pub srcaddr: Option<Cow<'a, str>>,
}

impl<'a> DnsQuery<'a> {
    /// A query for `name`; one trailing dot is removed, as Sigma's DNS rules write names without it.
    #[must_use]
    pub fn new(name: Cow<'a, str>) -> Self {
        let query_name = match name {
            Cow::Borrowed(s) => Cow::Borrowed(s.strip_suffix('.').unwrap_or(s)),
            Cow::Owned(mut s) => {
                if s.ends_with('.') {
                    s.pop();
                }
                Cow::Owned(s)
            }
        };
        Self { query_name, ..Self::default() }
    }

    /// The fields a DNS rule can read (after the field map), by name.
    const FIELDS: [&'static str; 5] = ["query_name", "query_type", "rcode", "srcaddr", "answers"];

    fn field(&self, name: &str) -> Option<EventValue<'_>> {
        match name {
            "query_name" => Some(EventValue::Str(Cow::Borrowed(self.query_name.as_ref()))),
            "query_type" => text(self.query_type.as_ref()),
            "rcode" => text(self.rcode.as_ref()),
            "srcaddr" => text(self.srcaddr.as_ref()),
            "answers" => Some(EventValue::Array(
                self.answers.iter().map(|a| EventValue::Str(Cow::Borrowed(a.as_ref()))).collect(),
            )),
            _ => None,
        }
    }

    fn fields(&self) -> impl Iterator<Item = (&'static str, EventValue<'_>)> {
        Self::FIELDS.into_iter().filter_map(|name| self.field(name).map(|value| (name, value)))
    }
}

impl Event for DnsQuery<'_> {
    fn get_field(&self, path: &str) -> Option<EventValue<'_>> {
        self.field(path)
    }

    fn any_string_value(&self, pred: &dyn Fn(&str) -> bool) -> bool {
        self.all_string_values().iter().any(|s| pred(s))
    }

    fn all_string_values(&self) -> Vec<Cow<'_, str>> {
        let mut out = vec![Cow::Borrowed(self.query_name.as_ref())];
        out.extend(
            [&self.query_type, &self.rcode, &self.srcaddr].into_iter().flatten().map(|s| Cow::Borrowed(s.as_ref())),
        );
        out.extend(self.answers.iter().map(|a| Cow::Borrowed(a.as_ref())));
        out
    }

    fn to_json(&self) -> Value {
        Value::Object(self.fields().map(|(k, v)| (k.to_owned(), v.to_json())).collect())
    }

    fn top_level_keys(&self) -> Option<Vec<Cow<'_, str>>> {
        Some(self.fields().map(|(k, _)| Cow::Borrowed(k)).collect())
    }

    fn visit_top_level_keys(&self, visit: &mut dyn FnMut(&str)) -> bool {
        let present = [true, self.query_type.is_some(), self.rcode.is_some(), self.srcaddr.is_some(), true];
        Self::FIELDS.iter().zip(present).filter(|(_, present)| *present).for_each(|(name, _)| visit(name));
        true
    }
}

fn text<'s>(value: Option<&'s Cow<'_, str>>) -> Option<EventValue<'s>> {
    value.map(|s| EventValue::Str(Cow::Borrowed(s.as_ref())))
}

/// `path` inside an object, read by scanning its raw JSON: no tree is built, only the value found
/// is parsed. An array on the way (rare in the rules' paths) is read as a tree, as Sigma reads it.
fn nested<'a>(raw: &'a RawValue, path: &str) -> Option<EventValue<'a>> {
    let text = raw.get().trim_start();
    if text.starts_with('[') {
        let tree: Value = serde_json::from_str(text).ok()?;
        return JsonEvent::borrow(&tree).get_field(path).map(into_owned);
    }
    let object: RawObject<'a> = serde_json::from_str(raw.get()).ok()?;
    if let Some(value) = object.get(path) {
        return Some(raw_value(value));
    }
    let (head, rest) = path.split_once('.')?;
    nested(object.get(head)?, rest)
}

/// A raw JSON value as the evaluator's value: strings borrowed where they have no escapes.
fn raw_value(raw: &RawValue) -> EventValue<'_> {
    if let Some(s) = str_of(raw) {
        return EventValue::Str(s);
    }
    serde_json::from_str::<Value>(raw.get()).map_or(EventValue::Null, |v| into_owned(EventValue::from(&v)))
}

fn into_owned(value: EventValue<'_>) -> EventValue<'static> {
    match value {
        EventValue::Str(s) => EventValue::Str(Cow::Owned(s.into_owned())),
        EventValue::Int(n) => EventValue::Int(n),
        EventValue::Float(f) => EventValue::Float(f),
        EventValue::Bool(b) => EventValue::Bool(b),
        EventValue::Null => EventValue::Null,
        EventValue::Array(items) => EventValue::Array(items.into_iter().map(into_owned).collect()),
        EventValue::Map(entries) => {
            EventValue::Map(entries.into_iter().map(|(k, v)| (Cow::Owned(k.into_owned()), into_owned(v))).collect())
        }
    }
}

fn collect_strings<'v>(value: &'v Value, out: &mut Vec<Cow<'v, str>>) {
    match value {
        Value::String(s) => out.push(Cow::Borrowed(s)),
        Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dns_query_reports_the_fields_it_has_and_their_values() {
        let query = DnsQuery {
            query_type: Some(Cow::Borrowed("TXT")),
            answers: vec![Cow::Borrowed("v=spf1 -all")],
            ..DnsQuery::new(Cow::Borrowed("example.com."))
        };
        let mut keys = Vec::new();
        assert!(query.visit_top_level_keys(&mut |k| keys.push(k.to_owned())));
        assert_eq!(keys, ["query_name", "query_type", "answers"]);
        assert_eq!(query.top_level_keys().unwrap(), keys);
        assert_eq!(query.get_field("query_name"), Some(EventValue::Str(Cow::Borrowed("example.com"))));
        assert_eq!(query.get_field("query_type"), Some(EventValue::Str(Cow::Borrowed("TXT"))));
        assert_eq!(query.get_field("rcode"), None);
        assert_eq!(
            query.get_field("answers"),
            Some(EventValue::Array(vec![EventValue::Str(Cow::Borrowed("v=spf1 -all"))]))
        );
        assert_eq!(query.get_field("query"), None);
        assert_eq!(
            query.to_json(),
            serde_json::json!({"query_name": "example.com", "query_type": "TXT", "answers": ["v=spf1 -all"]})
        );
    }
}
