//! Reading records without re-parsing what is only copied.
//!
//! A transform reads a few fields and copies the rest: [`RawObject`] keeps every top-level key with
//! its raw JSON value, in the record's own order, so copying costs a `memcpy` and reading a field
//! parses only that field. [`ShapeGuard`] keeps one odd record from becoming a mapping conflict
//! where the template maps a key as an object or `flat_object`.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// A map key that borrows unless it had escapes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Key<'a>(#[serde(borrow)] pub Cow<'a, str>);

/// A JSON object: every top-level key with its raw value, in the object's own order.
///
/// Duplicate keys are kept as they are; the server refuses such a document and the record ends
/// where refused records end (dead letter, or Firehose's error output).
#[derive(Debug, Clone, Default)]
pub struct RawObject<'a>(pub Vec<(Key<'a>, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for RawObject<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visit<'a> {
            type Value = RawObject<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(self, mut map: M) -> Result<RawObject<'a>, M::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(32));
                while let Some(entry) = map.next_entry::<Key<'a>, &'a RawValue>()? {
                    entries.push(entry);
                }
                Ok(RawObject(entries))
            }
        }
        deserializer.deserialize_map(Visit(std::marker::PhantomData))
    }
}

impl<'a> RawObject<'a> {
    /// The raw value of `key`.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&'a RawValue> {
        self.0.iter().find(|(k, _)| k.0 == key).map(|(_, v)| *v)
    }

    /// The string value of `key`; `None` when absent or not a string.
    #[must_use]
    pub fn str(&self, key: &str) -> Option<Cow<'a, str>> {
        self.get(key).and_then(str_of)
    }

    /// `key` parsed as `T`; `None` when absent or of another shape.
    #[must_use]
    pub fn parse<T: Deserialize<'a>>(&self, key: &str) -> Option<T> {
        self.get(key).and_then(|raw| serde_json::from_str(raw.get()).ok())
    }
}

/// A string value, borrowed when it has no escapes; `None` when not a string.
#[must_use]
pub fn str_of(raw: &RawValue) -> Option<Cow<'_, str>> {
    // A raw value is valid JSON: a string without a backslash is its own text between the quotes.
    let text = raw.get();
    if let Some(inner) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        if memchr::memchr(b'\\', inner.as_bytes()).is_none() {
            return Some(Cow::Borrowed(inner));
        }
    }
    serde_json::from_str::<&str>(text)
        .map(Cow::Borrowed)
        .or_else(|_| serde_json::from_str::<String>(raw.get()).map(Cow::Owned))
        .ok()
}

/// An object, null, or an array of objects (what object and `flat_object` mappings accept).
#[must_use]
pub fn is_object_shaped(raw: &RawValue) -> bool {
    let s = raw.get().trim_start();
    if s.starts_with('{') || s == "null" {
        return true;
    }
    s.starts_with('[')
        && serde_json::from_str::<Vec<&RawValue>>(s)
            .is_ok_and(|items| items.iter().all(|i| i.get().trim_start().starts_with('{')))
}

/// A value that does not have the shape its mapping needs, kept as its JSON text.
#[derive(Debug, Serialize)]
pub struct Wrapped<'a> {
    /// The value's JSON text.
    #[serde(rename = "_value")]
    pub value: &'a str,
}

/// Keys the template maps as objects (or `flat_object`).
#[derive(Debug, Clone, Copy)]
pub struct ShapeGuard(pub &'static [&'static str]);

impl ShapeGuard {
    /// Writes `key: raw`, or `key: {"_value": "<raw JSON>"}` when `key` is object-mapped and `raw`
    /// is not [object-shaped](is_object_shaped).
    ///
    /// # Errors
    /// The serializer's.
    pub fn write_entry<M: serde::ser::SerializeMap>(
        self,
        map: &mut M,
        key: &str,
        raw: &RawValue,
    ) -> Result<(), M::Error> {
        if self.0.contains(&key) && !is_object_shaped(raw) {
            map.serialize_entry(key, &Wrapped { value: raw.get() })
        } else {
            map.serialize_entry(key, raw)
        }
    }
}

/// Makes serialised JSON one line: copied raw values keep the record's own whitespace, and a
/// pretty-printed record would otherwise put line breaks into bulk NDJSON (and Firehose records).
/// Removing every `\n` and `\r` byte is safe: valid JSON has them only as whitespace between
/// tokens (inside strings they must be escaped).
pub fn single_line(json: &mut Vec<u8>) {
    // One SIMD scan: nearly every document has no line break at all.
    if memchr::memchr2(b'\n', b'\r', json).is_some() {
        json.retain(|&b| b != b'\n' && b != b'\r');
    }
}

impl ShapeGuard {
    /// Writes every field of `object` in its own order: a key the derived block already wrote
    /// (one of `reserved`) as `<prefix>_<key>`, so nothing is lost or duplicated, the others
    /// through [`write_entry`](Self::write_entry).
    ///
    /// # Errors
    /// The serializer's.
    pub fn write_fields<M: serde::ser::SerializeMap>(
        self,
        map: &mut M,
        object: &RawObject<'_>,
        reserved: &[&str],
        prefix: &str,
    ) -> Result<(), M::Error> {
        for (Key(key), raw) in &object.0 {
            let key: &str = key;
            if reserved.contains(&key) {
                map.serialize_entry(&format!("{prefix}_{key}"), raw)?;
            } else {
                self.write_entry(map, key, raw)?;
            }
        }
        Ok(())
    }
}

/// At most 64 bytes of `s`, cut at a character boundary (for error messages).
#[must_use]
pub fn shorten(s: &str) -> &str {
    let mut end = s.len().min(64);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {

    #[test]
    fn strings_without_escapes_are_borrowed_and_escaped_ones_decoded() {
        fn raw(t: &str) -> &RawValue {
            serde_json::from_str(t).unwrap()
        }
        assert!(matches!(str_of(raw(r#""ConsoleLogin""#)), Some(Cow::Borrowed("ConsoleLogin"))));
        assert_eq!(str_of(raw(r#""a\"b\u00e9""#)).as_deref(), Some("a\"bé"));
        assert_eq!(str_of(raw(r#""""#)).as_deref(), Some(""));
        assert_eq!(str_of(raw("12")), None);
        assert_eq!(str_of(raw(r#"{"a":"b"}"#)), None);
    }

    use super::*;

    #[test]
    fn keeps_order_and_reads_fields() {
        let o: RawObject<'_> = serde_json::from_str(r#"{"b":1,"a":"x\"y","c":{"d":[1]}}"#).unwrap();
        let keys: Vec<&str> = o.0.iter().map(|(k, _)| &*k.0).collect();
        assert_eq!(keys, ["b", "a", "c"]);
        assert_eq!(o.str("a").as_deref(), Some("x\"y"));
        assert_eq!(o.str("b"), None);
        assert_eq!(o.parse::<u32>("b"), Some(1));
        assert_eq!(o.get("c").unwrap().get(), r#"{"d":[1]}"#);
    }

    #[test]
    fn shapes() {
        let raw = |s: &str| serde_json::from_str::<&RawValue>(s).unwrap().to_owned();
        for ok in ["{}", "null", "[]", r#"[{"a":1}]"#] {
            assert!(is_object_shaped(&raw(ok)), "{ok}");
        }
        for bad in ["1", "\"s\"", "[1]", r#"[{"a":1},2]"#, "true"] {
            assert!(!is_object_shaped(&raw(bad)), "{bad}");
        }
    }

    #[test]
    fn single_line_removes_only_whitespace_breaks() {
        let pretty = serde_json::to_vec_pretty(&serde_json::json!({"a": [1, {"b": "x\ny"}], "c": "\r"})).unwrap();
        let mut one = pretty.clone();
        single_line(&mut one);
        assert!(!one.contains(&b'\n'));
        let (before, after): (serde_json::Value, serde_json::Value) =
            (serde_json::from_slice(&pretty).unwrap(), serde_json::from_slice(&one).unwrap());
        assert_eq!(before, after);
    }

    #[test]
    fn shorten_cuts_at_char_boundary() {
        let s = "é".repeat(40);
        assert_eq!(shorten(&s).len(), 64);
        assert_eq!(shorten("ab"), "ab");
    }
}
