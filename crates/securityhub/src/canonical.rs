//! A finding's canonical JSON, written without building a `serde_json::Value`.
//!
//! The external version's tie-break hashes what `serde_json::Value` writes back (keys sorted by
//! their bytes, the last of duplicate keys kept, numbers as `serde_json::Number` reads them,
//! strings escaped by `serde_json`): every version ever stored was computed that way, so this
//! writes exactly that, byte for byte, over a tree that borrows the finding's text (a 6 KB
//! finding is a few hundred strings that `Value` would each copy into a `String` and a map).

use std::borrow::Cow;
use std::fmt;

use seclog_core::json::Key;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Number;

/// A JSON value, its strings borrowed where they have no escapes, its objects sorted.
pub(crate) enum Canonical<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Canonical<'a>>),
    /// Sorted by key; one entry per key, the last one read (as a map keeps it).
    Object(Vec<(Cow<'a, str>, Canonical<'a>)>),
}

impl<'de> Deserialize<'de> for Canonical<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(CanonicalVisitor)
    }
}

struct CanonicalVisitor;

impl<'de> Visitor<'de> for CanonicalVisitor {
    type Value = Canonical<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Canonical::Null)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Canonical::Bool(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Canonical::Number(v.into()))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Canonical::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        // JSON has no NaN or infinity, as `Value` reads it.
        Ok(Number::from_f64(v).map_or(Canonical::Null, Canonical::Number))
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Canonical::String(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Canonical::String(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Canonical::String(Cow::Owned(v)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Canonical::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries: Vec<(Cow<'de, str>, Canonical<'de>)> = Vec::new();
        while let Some((key, value)) = map.next_entry::<Key<'de>, Canonical<'de>>()? {
            entries.push((key.0, value));
        }
        // Stable: among equal keys the order read survives, and the last one read is kept.
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let mut sorted: Vec<(Cow<'de, str>, Canonical<'de>)> = Vec::with_capacity(entries.len());
        for entry in entries {
            match sorted.last_mut() {
                Some(last) if last.0 == entry.0 => *last = entry,
                _ => sorted.push(entry),
            }
        }
        Ok(Canonical::Object(sorted))
    }
}

impl Serialize for Canonical<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Null => serializer.serialize_unit(),
            Self::Bool(b) => serializer.serialize_bool(*b),
            Self::Number(n) => n.serialize(serializer),
            Self::String(s) => serializer.serialize_str(s),
            Self::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Self::Object(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    map.serialize_entry(key.as_ref(), value)?;
                }
                map.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// What `serde_json::Value` writes back, and what this writes, for the same text.
    fn both(text: &str) -> (String, String) {
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        let canonical: Canonical<'_> = serde_json::from_str(text).unwrap();
        (serde_json::to_string(&value).unwrap(), serde_json::to_string(&canonical).unwrap())
    }

    #[test]
    fn it_writes_what_a_json_value_writes_back() {
        for text in [
            r#"{"b":1,"a":{"d":[1,2,{"z":null,"y":true}],"c":"x"}}"#,
            // Duplicate keys: the last one read wins, where its key sorts.
            r#"{"k":1,"a":0,"k":2,"k":{"n":3}}"#,
            // Numbers as `Number` reads them: integers, negatives, floats, exponents, big ones.
            "[0,-0,1.0,-1.5,1e3,1E-7,2.5e+300,18446744073709551615,18446744073709551616,-9223372036854775808,-9223372036854775809,0.1,123456789012345678901234567890]",
            // Escapes and text outside ASCII, in keys and values; keys sorted by their bytes.
            r#"{"\u00e9":"\u00e9\n\t\"\\\/","Z":"\ud83d\ude00","a\u0000":"ctl\u001f","é":"é","~":""}"#,
            r#""just a string""#,
            "  [ ]  ",
            "{}",
        ] {
            let (value, canonical) = both(text);
            assert_eq!(canonical, value, "{text}");
        }
        let finding = include_str!("../../../fixtures/securityhub/asr-afsbp-ec2-7.input.json");
        let (value, canonical) = both(finding);
        assert_eq!(canonical, value);
    }
}
