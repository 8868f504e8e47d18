//! Flow-log formats: which fields a line holds, in which order, and of which kind.

/// The default (version 2) format.
pub const DEFAULT_FORMAT: &str = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} \
     ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}";

/// How a field's value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text.
    Text,
    /// An unsigned integer.
    Number,
    /// An IPv4 or IPv6 address.
    Address,
    /// Epoch seconds, written as an ISO-8601 date.
    Time,
}

/// Every field of versions 2 to 8 (from the VPC user guide's table of available fields).
const KNOWN: [(&str, Kind); 42] = [
    ("version", Kind::Number),
    ("account-id", Kind::Text),
    ("interface-id", Kind::Text),
    ("srcaddr", Kind::Address),
    ("dstaddr", Kind::Address),
    ("srcport", Kind::Number),
    ("dstport", Kind::Number),
    ("protocol", Kind::Number),
    ("packets", Kind::Number),
    ("bytes", Kind::Number),
    ("start", Kind::Time),
    ("end", Kind::Time),
    ("action", Kind::Text),
    ("log-status", Kind::Text),
    ("vpc-id", Kind::Text),
    ("subnet-id", Kind::Text),
    ("instance-id", Kind::Text),
    ("tcp-flags", Kind::Number),
    ("type", Kind::Text),
    ("pkt-srcaddr", Kind::Address),
    ("pkt-dstaddr", Kind::Address),
    ("region", Kind::Text),
    ("az-id", Kind::Text),
    ("sublocation-type", Kind::Text),
    ("sublocation-id", Kind::Text),
    ("pkt-src-aws-service", Kind::Text),
    ("pkt-dst-aws-service", Kind::Text),
    ("flow-direction", Kind::Text),
    ("traffic-path", Kind::Number),
    ("ecs-cluster-arn", Kind::Text),
    ("ecs-cluster-name", Kind::Text),
    ("ecs-container-instance-arn", Kind::Text),
    ("ecs-container-instance-id", Kind::Text),
    ("ecs-container-id", Kind::Text),
    ("ecs-second-container-id", Kind::Text),
    ("ecs-service-name", Kind::Text),
    ("ecs-task-definition-arn", Kind::Text),
    ("ecs-task-arn", Kind::Text),
    ("ecs-task-id", Kind::Text),
    ("reject-reason", Kind::Text),
    ("resource-id", Kind::Text),
    ("encryption-status", Kind::Number),
];

/// One field of a format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Its canonical (hyphenated) name.
    pub name: String,
    /// How its value is read.
    pub kind: Kind,
}

/// A flow-log format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Format {
    fields: Vec<Field>,
}

/// `${vpc-id}`, `vpc-id` and `vpc_id` all name `vpc-id`.
fn canonical(token: &str) -> String {
    let name = token.strip_prefix("${").and_then(|t| t.strip_suffix('}')).unwrap_or(token);
    name.replace('_', "-").to_ascii_lowercase()
}

/// Whether `line` is a header line (its first token is a field name; a value never is).
#[must_use]
pub fn is_header(line: &str) -> bool {
    line.split_ascii_whitespace().next().is_some_and(|t| {
        let name = canonical(t);
        KNOWN.iter().any(|(k, _)| *k == name)
    })
}

/// Why a flow-log format (or header line) cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// A token that is not a field name (`${…}` unbalanced, or empty).
    #[error("`{0}` is not a field name")]
    NotAField(String),
    /// A field named twice.
    #[error("field `{0}` appears twice")]
    Repeated(String),
    /// No field at all.
    #[error("the format names no field")]
    Empty,
}

impl Format {
    /// Parses a format string (`${a} ${b}` or a header line `a b`).
    ///
    /// # Errors
    /// An empty format, or a field named twice.
    pub fn parse(format: &str) -> Result<Self, FormatError> {
        let mut fields: Vec<Field> = Vec::new();
        for token in format.split_ascii_whitespace() {
            let name = canonical(token);
            if name.is_empty() || name.contains(['$', '{', '}']) {
                return Err(FormatError::NotAField(token.to_owned()));
            }
            if fields.iter().any(|f| f.name == name) {
                return Err(FormatError::Repeated(name));
            }
            fields.push(Field::named(name));
        }
        if fields.is_empty() {
            return Err(FormatError::Empty);
        }
        Ok(Self { fields })
    }

    /// The fields, in line order.
    #[must_use]
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }
}

impl Default for Format {
    /// The default format: the 14 fields of version 2, each named once (a test holds it equal to
    /// [`Format::parse`] of [`DEFAULT_FORMAT`]).
    fn default() -> Self {
        Self { fields: DEFAULT_FORMAT.split_ascii_whitespace().map(|token| Field::named(canonical(token))).collect() }
    }
}

impl Field {
    /// The field `name` (canonical), typed as the documented field of that name, else text.
    fn named(name: String) -> Self {
        let kind = KNOWN.iter().find(|(k, _)| *k == name).map_or(Kind::Text, |(_, kind)| *kind);
        Self { name, kind }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings() {
        let f = Format::parse("${version} vpc_id ${tcp-flags} my-new-field").unwrap();
        let names: Vec<_> = f.fields().iter().map(|f| (f.name.as_str(), f.kind)).collect();
        assert_eq!(
            names,
            [
                ("version", Kind::Number),
                ("vpc-id", Kind::Text),
                ("tcp-flags", Kind::Number),
                ("my-new-field", Kind::Text)
            ]
        );
        assert_eq!(Format::default().fields().len(), 14);
        assert_eq!(Format::default(), Format::parse(DEFAULT_FORMAT).unwrap());
    }

    #[test]
    fn bad_formats() {
        assert_eq!(Format::parse("  "), Err(FormatError::Empty));
        assert_eq!(Format::parse("${srcaddr} ${srcaddr}"), Err(FormatError::Repeated("srcaddr".into())));
        assert_eq!(Format::parse("${srcaddr"), Err(FormatError::NotAField("${srcaddr".into())));
    }

    #[test]
    fn headers() {
        assert!(is_header("version account-id interface-id"));
        assert!(is_header("instance_id interface_id"));
        assert!(!is_header("2 123456789012 eni-1"));
        assert!(!is_header("- eni-1235b8ca123456789 10.0.1.5"));
    }
}
