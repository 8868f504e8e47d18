//! One flow-log line → one document. Pure: no I/O.

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use seclog_core::ecs::{Account, Cloud, Event, Head, Related, Written};
use seclog_core::firehose::{RecordContext, RecordTransform, Transformed};
use seclog_core::json::shorten;
use seclog_core::{DropRule, RecordError};
use seclog_enrich::{AddressClass, Enricher, IpEnrichment};
use serde::{Serialize, Serializer};

use crate::format::{is_header, Format, Kind};
use seclog_core::RecordKind;

/// The dataset name of every flow-log document.
pub const DATASET: &str = "aws.vpcflow";

/// Flow-log line → document.
#[derive(Debug, Clone, Default)]
pub struct VpcFlowTransform {
    format: Format,
    enricher: Arc<Enricher>,
}

impl VpcFlowTransform {
    /// A transform for lines of `format` (when a record has no header line).
    #[must_use]
    pub fn new(format: Format) -> Self {
        Self { format, enricher: Arc::default() }
    }

    /// The same transform, enriching public source and destination addresses with `enricher`.
    #[must_use]
    pub fn with_enricher(self, enricher: Arc<Enricher>) -> Self {
        Self { enricher, ..self }
    }
}

impl RecordTransform for VpcFlowTransform {
    fn dataset(&self) -> &'static str {
        DATASET
    }

    fn transform(&self, data: &[u8], context: &RecordContext) -> Result<Transformed, RecordError> {
        let text = std::str::from_utf8(data).map_err(|e| RecordError::new(RecordKind::BadUtf8, e.to_string()))?;
        let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty()).peekable();
        let header = lines.next_if(|l| is_header(l));
        let rest: Vec<&str> = lines.collect();
        let format = match header {
            Some(h) => {
                Cow::Owned(Format::parse(h).map_err(|e| RecordError::new(RecordKind::BadHeader, e.to_string()))?)
            }
            None => Cow::Borrowed(&self.format),
        };
        match rest.as_slice() {
            [] if header.is_some() => Ok(Transformed::Drop(DropRule::HeaderLine)),
            [] => Err(RecordError::new(RecordKind::EmptyRecord, "the record holds no flow-log line")),
            [line] => transform_line(&format, line, context, &self.enricher)
                .map(|(time, body)| Transformed::Document { body, time }),
            lines => Ok(Transformed::Split(
                lines
                    .iter()
                    .map(|l| header.map_or_else(|| l.to_string(), |h| format!("{h}\n{l}")).into_bytes())
                    .collect(),
            )),
        }
    }
}

/// A field's parsed value.
#[derive(Debug, Clone, Copy)]
enum Value<'a> {
    Text(&'a str),
    Number(u64),
    Address(IpAddr),
    Time(DateTime<Utc>),
}

impl Serialize for Value<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Text(t) => serializer.serialize_str(t),
            Self::Number(n) => serializer.serialize_u64(*n),
            Self::Address(ip) => serializer.collect_str(ip),
            Self::Time(t) => serializer.serialize_str(&iso(*t)),
        }
    }
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Transforms one line.
///
/// # Errors
/// `field_count` when the line does not have the format's number of fields; `bad_number`,
/// `bad_address` or `bad_timestamp` for a value of the wrong kind; `missing_time` when neither `start`
/// nor `end` nor the arrival time is known.
pub(crate) fn transform_line(
    format: &Format,
    line: &str,
    context: &RecordContext,
    enricher: &Enricher,
) -> Result<(DateTime<Utc>, Vec<u8>), RecordError> {
    let count = line.split_ascii_whitespace().count();
    if count != format.fields().len() {
        return Err(RecordError::new(
            RecordKind::FieldCount,
            format!("the line has {count} fields, the format {}", format.fields().len()),
        ));
    }
    let mut values: Vec<(&str, Value<'_>)> = Vec::with_capacity(count);
    for (field, token) in format.fields().iter().zip(line.split_ascii_whitespace()) {
        if token == "-" {
            continue;
        }
        let bad = |kind: RecordKind| {
            RecordError::new(
                kind,
                format!("{} `{}` is not {}", field.name, shorten(token), kind.as_str().trim_start_matches("bad_")),
            )
        };
        let value = match field.kind {
            Kind::Text => Value::Text(token),
            Kind::Number => Value::Number(token.parse().map_err(|_| bad(RecordKind::BadNumber))?),
            Kind::Address => Value::Address(token.parse().map_err(|_| bad(RecordKind::BadAddress))?),
            Kind::Time => Value::Time(
                token
                    .parse::<i64>()
                    .ok()
                    .and_then(|s| DateTime::from_timestamp(s, 0))
                    .ok_or_else(|| bad(RecordKind::BadTimestamp))?,
            ),
        };
        values.push((field.name.as_str(), value));
    }
    let flow = Flow(values);
    let time = flow.time("start").or_else(|| flow.time("end")).or(context.arrival).ok_or_else(|| {
        RecordError::new(RecordKind::MissingTime, "the line has no start or end time and the record no arrival time")
    })?;
    // The document is about 8 times the line, plus about 300 bytes per enriched address: size it
    // once (a reallocation copies it and doubles its footprint).
    let mut body = Vec::with_capacity(line.len() * 4 + 1024);
    let (head, derived) = Derived::of(&flow, time, enricher);
    serde_json::to_writer(&mut body, &Written { head: &head, derived: &derived, own: FlowFields(&flow) })
        .map_err(|e| RecordError::json(RecordKind::BadJson, "", &e))?;
    Ok((time, body))
}

struct Flow<'a>(Vec<(&'a str, Value<'a>)>);

impl<'a> Flow<'a> {
    fn get(&self, name: &str) -> Option<Value<'a>> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }
    fn text(&self, name: &str) -> Option<&'a str> {
        match self.get(name)? {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }
    fn number(&self, name: &str) -> Option<u64> {
        match self.get(name)? {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }
    fn address(&self, name: &str) -> Option<IpAddr> {
        match self.get(name)? {
            Value::Address(ip) => Some(ip),
            _ => None,
        }
    }
    fn time(&self, name: &str) -> Option<DateTime<Utc>> {
        match self.get(name)? {
            Value::Time(t) => Some(t),
            _ => None,
        }
    }
}

#[derive(Serialize)]
struct Endpoint {
    ip: IpAddr,
    #[serde(skip_serializing_if = "Option::is_none")]
    port: Option<u64>,
    address_class: &'static str,
    #[serde(flatten)]
    enrichment: Option<Arc<IpEnrichment>>,
}

#[serde_with::skip_serializing_none]
#[derive(Serialize, Default, PartialEq)]
struct Network {
    iana_number: Option<String>,
    transport: Option<String>,
    bytes: Option<u64>,
    packets: Option<u64>,
    direction: Option<&'static str>,
    #[serde(rename = "type")]
    kind: Option<&'static str>,
}

impl Network {
    fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

#[derive(Serialize)]
struct VpcFlow {
    tcp_flags: Vec<&'static str>,
}

/// What the flow log does not say but a search needs, written after the head and before the flow's
/// own fields.
#[serde_with::skip_serializing_none]
#[derive(Serialize)]
struct Derived<'a> {
    source: Option<Endpoint>,
    destination: Option<Endpoint>,
    #[serde(skip_serializing_if = "Network::is_empty")]
    network: Network,
    #[serde(skip_serializing_if = "Related::is_empty")]
    related: Related<'a>,
    vpcflow: Option<VpcFlow>,
}

impl<'a> Derived<'a> {
    fn of(flow: &'a Flow<'a>, time: DateTime<Utc>, enricher: &'a Enricher) -> (Head<'a>, Self) {
        let action = flow.text("action");
        let outcome = action.and_then(|a| match a {
            "ACCEPT" => Some("success"),
            "REJECT" => Some("failure"),
            _ => None,
        });
        let event = Event {
            action: action.map(|a| match a {
                "ACCEPT" => Cow::Borrowed("accept"),
                "REJECT" => Cow::Borrowed("reject"),
                other => Cow::Owned(other.to_ascii_lowercase()),
            }),
            outcome,
            ..Event::of(DATASET)
        };
        let cloud = Cloud {
            account: flow.text("account-id").filter(|a| *a != "unknown").map(|id| Account { id: Cow::Borrowed(id) }),
            ..Cloud::aws(None, flow.text("region").map(Cow::Borrowed))
        };
        let endpoint = |addr: &str, port: &str| {
            flow.address(addr).map(|ip| {
                let class = seclog_enrich::classify_ip(ip);
                let enrichment = enricher.lookup(ip);
                (Endpoint { ip, port: flow.number(port), address_class: class.as_str(), enrichment }, class)
            })
        };
        let source = endpoint("srcaddr", "srcport");
        let destination = endpoint("dstaddr", "dstport");
        let protocol = flow.number("protocol");
        let network = Network {
            iana_number: protocol.map(|p| p.to_string()),
            transport: protocol.map(protocol_name),
            bytes: flow.number("bytes"),
            packets: flow.number("packets"),
            direction: direction(
                flow.text("flow-direction"),
                source.as_ref().map(|s| s.1),
                destination.as_ref().map(|d| d.1),
            ),
            kind: flow
                .address("srcaddr")
                .or(flow.address("dstaddr"))
                .map(|ip| if ip.is_ipv4() { "ipv4" } else { "ipv6" }),
        };
        let (source, destination) = (source.map(|s| s.0), destination.map(|d| d.0));
        let ip: Vec<IpAddr> = [&source, &destination].into_iter().flatten().map(|e| e.ip).collect();
        let derived = Self {
            source,
            destination,
            network,
            related: Related { ip, ..Related::default() },
            vpcflow: flow.number("tcp-flags").map(|flags| VpcFlow { tcp_flags: tcp_flag_names(flags) }),
        };
        // Flow logs count in whole seconds: `@timestamp` says so, as `start` and `end` do.
        (Head { timestamp: iso(time), event, cloud }, derived)
    }
}

/// The flow's own fields, by the names of its format.
struct FlowFields<'o, 'a>(&'o Flow<'a>);

impl Serialize for FlowFields<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0 .0.iter().map(|(name, value)| (name, value)))
    }
}

fn direction(
    flow_direction: Option<&str>,
    src: Option<AddressClass>,
    dst: Option<AddressClass>,
) -> Option<&'static str> {
    match flow_direction {
        Some("ingress") => return Some("ingress"),
        Some("egress") => return Some("egress"),
        _ => {}
    }
    let public = |c: AddressClass| c == AddressClass::Public;
    match (src?, dst?) {
        (s, d) if !public(s) && public(d) => Some("egress"),
        (s, d) if public(s) && !public(d) => Some("ingress"),
        (s, d) if public(s) && public(d) => Some("external"),
        _ => Some("internal"),
    }
}

/// The names of the bits set in a `tcp-flags` value (bits the flow log can record).
fn tcp_flag_names(flags: u64) -> Vec<&'static str> {
    const BITS: [(u64, &str); 6] = [(1, "FIN"), (2, "SYN"), (4, "RST"), (8, "PSH"), (16, "ACK"), (32, "URG")];
    BITS.iter().filter(|(bit, _)| flags & bit != 0).map(|(_, name)| *name).collect()
}

/// The IANA keyword of a protocol number (lower case), or the number itself.
fn protocol_name(number: u64) -> String {
    let name = match number {
        0 => "hopopt",
        1 => "icmp",
        2 => "igmp",
        4 => "ipv4",
        6 => "tcp",
        17 => "udp",
        41 => "ipv6",
        43 => "ipv6-route",
        44 => "ipv6-frag",
        47 => "gre",
        50 => "esp",
        51 => "ah",
        58 => "ipv6-icmp",
        59 => "ipv6-nonxt",
        60 => "ipv6-opts",
        88 => "eigrp",
        89 => "ospf",
        103 => "pim",
        112 => "vrrp",
        115 => "l2tp",
        132 => "sctp",
        136 => "udplite",
        137 => "mpls-in-ip",
        _ => return number.to_string(),
    };
    name.to_owned()
}

#[cfg(test)]
mod tests;
