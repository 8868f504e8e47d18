//! Application Load Balancer access logs: one line → one document. Pure: no I/O.
//!
//! A line is AWS's documented access-log entry: space-separated fields, some in double quotes
//! (`"GET https://example.com:443/ HTTP/1.1"`), `-` for a value the load balancer did not have.
//! Lines from before a field existed have fewer fields: the first 17 (up to `target_group_arn`,
//! the format of 2016) are required, the rest are read as far as the line goes, and fields AWS
//! adds after the ones known here are kept in `aws.elb.extra_fields`.
//!
//! The document carries ECS fields (`http.*`, `url.*`, `user_agent.original`, `tls.*`, the caller
//! in `source.*` enriched and in `client.*`, the target in `destination.*`) and every field under
//! its documented name in `aws.elb.*`.

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use seclog_core::ecs::{Cloud, Event, Head, Related, Written};
use seclog_core::json::shorten;
use seclog_core::{RecordError, RecordKind};
use seclog_enrich::{Enricher, IpEnrichment};
use serde::Serialize;

#[cfg(test)]
mod tests;

/// The dataset of every load-balancer access-log document.
pub const DATASET: &str = "aws.alb";

/// The fields every line has (the format of 2016, up to `target_group_arn`).
pub const MIN_FIELDS: usize = 17;

/// Where a line comes from: the account and region of its object's key.
#[derive(Debug, Clone, Copy, Default)]
pub struct LineContext<'a> {
    /// The account that owns the load balancer.
    pub account: Option<&'a str>,
    /// Its region.
    pub region: Option<&'a str>,
    /// When the function read the object (RFC 3339; empty: not written).
    pub ingested: &'a str,
}

/// Splits a line into its fields: quoted fields lose their quotes (a backslash keeps the next
/// character), `-` stays `-`.
///
/// # Errors
/// `bad_line` for a quote that is never closed.
pub fn split(line: &str) -> Result<Vec<Cow<'_, str>>, RecordError> {
    let mut fields = Vec::with_capacity(ELB.len());
    let mut rest = line.trim_end_matches(['\r', '\n']);
    loop {
        rest = rest.trim_start_matches(' ');
        if rest.is_empty() {
            return Ok(fields);
        }
        if let Some(quoted) = rest.strip_prefix('"') {
            let (field, after) = unquote(quoted).ok_or_else(|| {
                RecordError::new(
                    RecordKind::BadLine,
                    format!("field {} opens a quote that is never closed", fields.len() + 1),
                )
            })?;
            if !after.is_empty() && !after.starts_with(' ') {
                return Err(RecordError::new(
                    RecordKind::BadLine,
                    format!("field {} closes its quote before the field ends", fields.len() + 1),
                ));
            }
            fields.push(field);
            rest = after;
        } else {
            let end = rest.find(' ').unwrap_or(rest.len());
            fields.push(Cow::Borrowed(&rest[..end]));
            rest = &rest[end..];
        }
    }
}

/// The quoted field at the start of `s` (after its opening quote) and what follows its closing
/// quote; `None` when it is not closed.
fn unquote(s: &str) -> Option<(Cow<'_, str>, &str)> {
    let end = s.find(['"', '\\'])?;
    if s.as_bytes()[end] == b'"' {
        return Some((Cow::Borrowed(&s[..end]), &s[end + 1..]));
    }
    let mut owned = String::from(&s[..end]);
    let mut chars = s[end..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((Cow::Owned(owned), &s[end + i + 1..])),
            '\\' => owned.push(chars.next()?.1),
            c => owned.push(c),
        }
    }
    None
}

/// Transforms one line into the document's time and body.
///
/// # Errors
/// `bad_line` for a broken quote, `field_count` for fewer than [`MIN_FIELDS`] fields,
/// `bad_timestamp` for a `time` that is not RFC 3339, `bad_number` for a count or duration that
/// is not a number.
pub fn transform_line(
    line: &str,
    context: &LineContext<'_>,
    enricher: &Enricher,
) -> Result<(DateTime<Utc>, Vec<u8>), RecordError> {
    let fields = split(line)?;
    if fields.len() < MIN_FIELDS {
        return Err(RecordError::new(
            RecordKind::FieldCount,
            format!("the line has {} fields, an access-log entry at least {MIN_FIELDS}", fields.len()),
        ));
    }
    let entry = Entry { fields: &fields };
    let time = DateTime::parse_from_rfc3339(&fields[1]).map(|t| t.to_utc()).map_err(|_| {
        RecordError::new(RecordKind::BadTimestamp, format!("time `{}` is not an RFC 3339 date", shorten(&fields[1])))
    })?;
    let (head, derived) = Derived::of(&entry, time, context, enricher)?;
    let own = LineFields { aws: Aws { elb: Elb::of(&entry)? } };
    let mut body = Vec::with_capacity(line.len() * 2 + 512);
    serde_json::to_writer(&mut body, &Written { head: &head, derived: &derived, own })
        .map_err(|e| RecordError::json(RecordKind::BadJson, "", &e))?;
    Ok((time, body))
}

/// A line's fields, by name.
struct Entry<'l, 'a> {
    fields: &'l [Cow<'a, str>],
}

impl<'l> Entry<'l, '_> {
    /// The field's value; `None` when the line is too old to have it or it is `-`.
    fn get(&self, name: &str) -> Option<&'l str> {
        let i = ELB.iter().position(|(field, ..)| *field == name)?;
        self.fields.get(i).map(|v| &**v).filter(|v| *v != "-" && !v.is_empty())
    }

    fn number<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>, RecordError> {
        self.get(name)
            .map(|v| {
                v.parse().map_err(|_| {
                    RecordError::new(RecordKind::BadNumber, format!("{name} `{}` is not a number", shorten(v)))
                })
            })
            .transpose()
    }

    fn list(&self, name: &str, separator: char) -> Vec<&'l str> {
        self.get(name).map(|v| v.split(separator).filter(|s| !s.is_empty() && *s != "-").collect()).unwrap_or_default()
    }
}

/// `ip:port`, `[ipv6]:port` or a bare address.
fn endpoint(value: &str) -> Option<(IpAddr, Option<u16>)> {
    if let Ok(addr) = value.parse::<std::net::SocketAddr>() {
        return Some((addr.ip(), Some(addr.port())));
    }
    if let Ok(ip) = value.parse::<IpAddr>() {
        return Some((ip, None));
    }
    let (ip, port) = value.rsplit_once(':')?;
    Some((ip.parse().ok()?, port.parse().ok()))
}

/// The derived block after the head: ECS's `source`, `client`, `destination`, `http`, `url`,
/// `user_agent`, `tls` and `related`.
#[serde_with::skip_serializing_none]
#[derive(Serialize)]
struct Derived<'a> {
    source: Option<Source>,
    client: Option<Client>,
    destination: Option<Target>,
    http: Http<'a>,
    url: Option<Url<'a>>,
    user_agent: Option<UserAgent<'a>>,
    tls: Option<Tls<'a>>,
    #[serde(skip_serializing_if = "Related::is_empty")]
    related: Related<'a>,
}

#[derive(Serialize)]
struct Source {
    ip: IpAddr,
    #[serde(skip_serializing_if = "Option::is_none")]
    port: Option<u16>,
    address_class: &'static str,
    #[serde(flatten)]
    enrichment: Option<Arc<IpEnrichment>>,
}

#[derive(Serialize)]
struct Client {
    ip: IpAddr,
    #[serde(skip_serializing_if = "Option::is_none")]
    port: Option<u16>,
}

#[derive(Serialize)]
struct Target {
    ip: IpAddr,
    #[serde(skip_serializing_if = "Option::is_none")]
    port: Option<u16>,
    address_class: &'static str,
}

#[derive(Serialize)]
struct Http<'a> {
    request: HttpRequest<'a>,
    response: HttpResponse,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
}

#[serde_with::skip_serializing_none]
#[derive(Serialize)]
struct HttpRequest<'a> {
    method: Option<&'a str>,
    bytes: Option<u64>,
}

#[serde_with::skip_serializing_none]
#[derive(Serialize)]
struct HttpResponse {
    status_code: Option<u16>,
    bytes: Option<u64>,
}

#[serde_with::skip_serializing_none]
#[derive(Serialize)]
struct Url<'a> {
    original: &'a str,
    scheme: Option<String>,
    domain: Option<String>,
    port: Option<u16>,
    path: Option<String>,
    query: Option<String>,
}

#[derive(Serialize)]
struct UserAgent<'a> {
    original: &'a str,
}

#[serde_with::skip_serializing_none]
#[derive(Serialize)]
struct Tls<'a> {
    cipher: Option<&'a str>,
    version: Option<&'a str>,
    version_protocol: Option<&'static str>,
}

/// The line's own fields: all of them, under `aws.elb`.
#[derive(Serialize)]
struct LineFields<'a> {
    aws: Aws<'a>,
}

#[derive(Serialize)]
struct Aws<'a> {
    elb: Elb<'a>,
}

/// Every field under its documented name (`client:port` and `target:port` as `client_port` and
/// `target_port`): numbers as numbers, lists as arrays, absent values left out, then the fields AWS
/// added after the ones known here.
struct Elb<'a> {
    fields: Vec<(&'static str, ElbValue<'a>)>,
    extra_fields: &'a [Cow<'a, str>],
}

/// A field's value.
enum ElbValue<'a> {
    Text(&'a str),
    Seconds(f64),
    Number(i64),
    List(Vec<&'a str>),
}

/// How a field is written under `aws.elb`.
enum As {
    Text,
    Seconds,
    Number,
    List(char),
}

/// The fields of the current format, in order: `(documented name, name under aws.elb or empty
/// when written elsewhere only, how)`.
const ELB: [(&str, &str, As); 33] = [
    ("type", "type", As::Text),
    ("time", "", As::Text),
    ("elb", "name", As::Text),
    ("client:port", "client_port", As::Text),
    ("target:port", "target_port", As::Text),
    ("request_processing_time", "request_processing_time", As::Seconds),
    ("target_processing_time", "target_processing_time", As::Seconds),
    ("response_processing_time", "response_processing_time", As::Seconds),
    ("elb_status_code", "elb_status_code", As::Number),
    ("target_status_code", "target_status_code", As::Number),
    ("received_bytes", "", As::Number),
    ("sent_bytes", "", As::Number),
    ("request", "request", As::Text),
    ("user_agent", "", As::Text),
    ("ssl_cipher", "ssl_cipher", As::Text),
    ("ssl_protocol", "ssl_protocol", As::Text),
    ("target_group_arn", "target_group_arn", As::Text),
    ("trace_id", "trace_id", As::Text),
    ("domain_name", "domain_name", As::Text),
    ("chosen_cert_arn", "chosen_cert_arn", As::Text),
    ("matched_rule_priority", "matched_rule_priority", As::Number),
    ("request_creation_time", "request_creation_time", As::Text),
    ("actions_executed", "actions_executed", As::List(',')),
    ("redirect_url", "redirect_url", As::Text),
    ("error_reason", "error_reason", As::Text),
    ("target:port_list", "target_port_list", As::List(' ')),
    ("target_status_code_list", "target_status_code_list", As::List(' ')),
    ("classification", "classification", As::Text),
    ("classification_reason", "classification_reason", As::Text),
    ("conn_trace_id", "conn_trace_id", As::Text),
    ("transformed_host", "transformed_host", As::Text),
    ("transformed_uri", "transformed_uri", As::Text),
    ("request_transform_status", "request_transform_status", As::Text),
];

impl Serialize for Elb<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let extra = usize::from(!self.extra_fields.is_empty());
        let mut map = serializer.serialize_map(Some(self.fields.len() + extra))?;
        for (name, value) in &self.fields {
            match value {
                ElbValue::Text(t) => map.serialize_entry(name, t)?,
                ElbValue::Seconds(s) => map.serialize_entry(name, s)?,
                ElbValue::Number(n) => map.serialize_entry(name, n)?,
                ElbValue::List(l) => map.serialize_entry(name, l)?,
            }
        }
        if extra == 1 {
            map.serialize_entry("extra_fields", self.extra_fields)?;
        }
        map.end()
    }
}

impl<'a> Derived<'a> {
    fn of(
        entry: &Entry<'a, 'a>,
        time: DateTime<Utc>,
        context: &LineContext<'a>,
        enricher: &Enricher,
    ) -> Result<(Head<'a>, Self), RecordError> {
        let status: Option<u16> = entry.number("elb_status_code")?;
        let event = Event {
            outcome: status.map(|s| if s < 400 { "success" } else { "failure" }),
            ingested: context.ingested,
            ..Event::of(DATASET)
        };
        let cloud = Cloud::aws(context.account.map(Cow::Borrowed), context.region.map(Cow::Borrowed));
        let client = entry.get("client:port").and_then(endpoint);
        let target = entry.get("target:port").and_then(endpoint);
        let source = client.map(|(ip, port)| {
            let address_class = seclog_enrich::classify_ip(ip).as_str();
            Source { ip, port, address_class, enrichment: enricher.lookup(ip) }
        });
        let request = entry.get("request").map(|r| r.splitn(3, ' ').collect::<Vec<_>>()).unwrap_or_default();
        let part = |i: usize| request.get(i).copied().filter(|p| *p != "-" && !p.is_empty());
        let protocol = entry.get("ssl_protocol");
        let ip: Vec<IpAddr> = [client, target].into_iter().flatten().map(|(ip, _)| ip).collect();
        let derived = Self {
            source,
            client: client.map(|(ip, port)| Client { ip, port }),
            destination: target.map(|(ip, port)| Target {
                ip,
                port,
                address_class: seclog_enrich::classify_ip(ip).as_str(),
            }),
            http: Http {
                request: HttpRequest { method: part(0), bytes: entry.number("received_bytes")? },
                response: HttpResponse { status_code: status, bytes: entry.number("sent_bytes")? },
                version: part(2).map(|v| v.trim_start_matches("HTTP/")),
            },
            url: part(1).map(url_of),
            user_agent: entry.get("user_agent").map(|original| UserAgent { original }),
            tls: entry.get("ssl_cipher").or(protocol).map(|_| Tls {
                cipher: entry.get("ssl_cipher"),
                version: protocol.map(|p| p.trim_start_matches("TLSv").trim_start_matches("SSLv")),
                version_protocol: protocol.map(|p| if p.starts_with("SSL") { "ssl" } else { "tls" }),
            }),
            related: Related { ip, ..Related::default() },
        };
        Ok((Head::at(time, event, cloud), derived))
    }
}

impl<'a> Elb<'a> {
    /// The fields the line has (those written elsewhere only — the time, the counts, the user
    /// agent — are left out).
    fn of(entry: &Entry<'a, 'a>) -> Result<Self, RecordError> {
        let mut fields = Vec::with_capacity(ELB.len());
        for (field, name, how) in &ELB {
            if name.is_empty() {
                continue;
            }
            let value = match how {
                As::Text => entry.get(field).map(ElbValue::Text),
                As::Seconds => entry.number(field)?.map(ElbValue::Seconds),
                As::Number => entry.number(field)?.map(ElbValue::Number),
                As::List(separator) => {
                    Some(entry.list(field, *separator)).filter(|l| !l.is_empty()).map(ElbValue::List)
                }
            };
            fields.extend(value.map(|v| (*name, v)));
        }
        Ok(Self { fields, extra_fields: entry.fields.get(ELB.len()..).unwrap_or_default() })
    }
}

/// `url.*` of a request's URL; only `url.original` when it does not parse.
fn url_of(original: &str) -> Url<'_> {
    let parsed = url::Url::parse(original).ok();
    let parsed = parsed.as_ref();
    Url {
        original,
        scheme: parsed.map(|u| u.scheme().to_owned()),
        domain: parsed.and_then(url::Url::host_str).map(str::to_owned),
        port: parsed.and_then(url::Url::port_or_known_default),
        path: parsed.map(|u| u.path().to_owned()).filter(|p| !p.is_empty()),
        query: parsed.and_then(url::Url::query).map(str::to_owned),
    }
}
