//! What an SQS message of the `s3` function's queue says: which objects were created.
//!
//! Four shapes are read: an S3 event notification sent to SQS directly (keys URL-encoded, a space
//! as `+`), the same wrapped in an SNS notification, an `EventBridge` "Object Created" event (keys
//! as they are), and the function's own continuation of an object it could not finish. S3's
//! `s3:TestEvent` (sent when a notification is configured) names no object.

use serde::{Deserialize, Serialize};

/// One object to read.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectNote {
    /// The bucket.
    pub bucket: String,
    /// The key, decoded.
    pub key: String,
    /// The version id, when the bucket is versioned.
    #[serde(default)]
    pub version_id: Option<String>,
    /// The `ETag` (without quotes), when the notification gave it.
    #[serde(default)]
    pub etag: Option<String>,
    /// The first record to read (1 unless this is a continuation).
    #[serde(default = "first_record")]
    pub next_record: usize,
}

fn first_record() -> usize {
    1
}

impl ObjectNote {
    /// What names this version of the object in document ids: the version id, else the `ETag`,
    /// else nothing (an unversioned object without an `ETag` is named by bucket and key alone).
    #[must_use]
    pub fn version(&self) -> &str {
        self.version_id.as_deref().or(self.etag.as_deref()).unwrap_or_default()
    }
}

/// What a message says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notification {
    /// Objects to read.
    Objects(Vec<ObjectNote>),
    /// S3's test event, or an event about something else than a created object (dropped by rule).
    Nothing,
}

/// A message that is none of the shapes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotANotification(String);

/// The continuation of an object, as the function sends it to its own queue.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Continuation {
    seclog_continuation: ObjectNote,
}

/// The message body of a continuation of `note` from record `next_record`.
#[must_use]
pub fn continuation(note: &ObjectNote, next_record: usize) -> String {
    let body = Continuation { seclog_continuation: ObjectNote { next_record, ..note.clone() } };
    serde_json::to_string(&body).unwrap_or_default()
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Shape {
    Continuation(Continuation),
    Sns(Sns),
    S3(S3Event),
    Test(TestEvent),
    EventBridge(EventBridge),
}

#[derive(Deserialize)]
struct Sns {
    #[serde(rename = "Type")]
    kind: String,
    #[serde(rename = "Message")]
    message: String,
}

#[derive(Deserialize)]
struct TestEvent {
    #[serde(rename = "Event")]
    event: String,
}

#[derive(Deserialize)]
struct S3Event {
    #[serde(rename = "Records")]
    records: Vec<S3Record>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct S3Record {
    #[serde(default)]
    event_name: String,
    s3: S3Entity,
}

#[derive(Deserialize)]
struct S3Entity {
    bucket: Named,
    object: S3Object,
}

#[derive(Deserialize)]
struct Named {
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct S3Object {
    key: String,
    #[serde(default)]
    version_id: Option<String>,
    #[serde(default)]
    e_tag: Option<String>,
}

#[derive(Deserialize)]
struct EventBridge {
    source: String,
    #[serde(rename = "detail-type")]
    detail_type: String,
    detail: EventBridgeDetail,
}

#[derive(Deserialize)]
struct EventBridgeDetail {
    bucket: Named,
    object: EventBridgeObject,
}

#[derive(Deserialize)]
struct EventBridgeObject {
    key: String,
    #[serde(default, rename = "version-id")]
    version_id: Option<String>,
    #[serde(default)]
    etag: Option<String>,
}

/// Reads a message body.
///
/// # Errors
/// [`NotANotification`] for a body of none of the shapes (it is dead-lettered).
pub fn parse(body: &str) -> Result<Notification, NotANotification> {
    let shape: Shape = serde_json::from_str(body).map_err(|_| {
        NotANotification(
            "the message is not an S3 event notification, an SNS notification of one, an EventBridge Object Created \
             event or a continuation"
                .into(),
        )
    })?;
    match shape {
        Shape::Continuation(c) => Ok(Notification::Objects(vec![c.seclog_continuation])),
        Shape::Sns(sns) if sns.kind == "Notification" => parse(&sns.message),
        Shape::Sns(sns) => Err(NotANotification(format!("an SNS message of type `{}`", shorten(&sns.kind)))),
        Shape::Test(t) if t.event == "s3:TestEvent" => Ok(Notification::Nothing),
        Shape::Test(t) => Err(NotANotification(format!("an S3 message of event `{}`", shorten(&t.event)))),
        Shape::S3(event) => {
            let notes: Vec<ObjectNote> = event
                .records
                .into_iter()
                .filter(|r| r.event_name.starts_with("ObjectCreated:"))
                .map(|r| ObjectNote {
                    bucket: r.s3.bucket.name,
                    key: decode_key(&r.s3.object.key),
                    version_id: r.s3.object.version_id.filter(|v| !v.is_empty()),
                    etag: r.s3.object.e_tag.map(|e| e.trim_matches('"').to_owned()).filter(|e| !e.is_empty()),
                    next_record: 1,
                })
                .collect();
            Ok(if notes.is_empty() { Notification::Nothing } else { Notification::Objects(notes) })
        }
        Shape::EventBridge(e) if e.source == "aws.s3" && e.detail_type == "Object Created" => {
            Ok(Notification::Objects(vec![ObjectNote {
                bucket: e.detail.bucket.name,
                key: e.detail.object.key,
                version_id: e.detail.object.version_id.filter(|v| !v.is_empty()),
                etag: e.detail.object.etag.map(|e| e.trim_matches('"').to_owned()).filter(|e| !e.is_empty()),
                next_record: 1,
            }]))
        }
        Shape::EventBridge(_) => Ok(Notification::Nothing),
    }
}

/// An S3 notification's key: URL-encoded, a space as `+`.
fn decode_key(key: &str) -> String {
    let plus_as_space = key.replace('+', " ");
    percent_encoding::percent_decode_str(&plus_as_space).decode_utf8_lossy().into_owned()
}

fn shorten(s: &str) -> String {
    seclog_core::json::shorten(s).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIRECT: &str = r#"{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"eu-west-1","eventTime":"2026-11-30T22:35:10.123Z","eventName":"ObjectCreated:Put","s3":{"s3SchemaVersion":"1.0","configurationId":"seclog","bucket":{"name":"logs-bucket","arn":"arn:aws:s3:::logs-bucket"},"object":{"key":"AWSLogs/111122223333/elasticloadbalancing/eu-west-1/2026/11/30/my+file%3D1.log.gz","size":1024,"eTag":"0123abcd","versionId":"v-7","sequencer":"0065"}}}]}"#;

    fn note(bucket: &str, key: &str, version_id: Option<&str>, etag: Option<&str>) -> ObjectNote {
        ObjectNote {
            bucket: bucket.into(),
            key: key.into(),
            version_id: version_id.map(Into::into),
            etag: etag.map(Into::into),
            next_record: 1,
        }
    }

    #[test]
    fn a_direct_notification_names_its_objects_with_decoded_keys() {
        let key = "AWSLogs/111122223333/elasticloadbalancing/eu-west-1/2026/11/30/my file=1.log.gz";
        assert_eq!(
            parse(DIRECT),
            Ok(Notification::Objects(vec![note("logs-bucket", key, Some("v-7"), Some("0123abcd"))]))
        );
        let removed = DIRECT.replace("ObjectCreated:Put", "ObjectRemoved:Delete");
        assert_eq!(parse(&removed), Ok(Notification::Nothing));
    }

    #[test]
    fn an_sns_wrapped_notification_is_the_notification_it_wraps() {
        let sns = serde_json::json!({"Type": "Notification", "MessageId": "m", "TopicArn": "arn:aws:sns:eu-west-1:1:t",
            "Message": DIRECT, "Timestamp": "2026-11-30T22:35:11.000Z"});
        assert_eq!(parse(&sns.to_string()), parse(DIRECT));
        let confirm = serde_json::json!({"Type": "SubscriptionConfirmation", "Message": "confirm"});
        assert_eq!(
            parse(&confirm.to_string()),
            Err(NotANotification("an SNS message of type `SubscriptionConfirmation`".into()))
        );
    }

    #[test]
    fn an_eventbridge_object_created_event_keeps_its_key_as_it_is() {
        let event = serde_json::json!({"version": "0", "id": "e", "detail-type": "Object Created", "source": "aws.s3",
            "account": "111122223333", "time": "2026-11-30T22:35:10Z", "region": "eu-west-1", "resources": [],
            "detail": {"version": "0", "bucket": {"name": "logs-bucket"},
                "object": {"key": "AWSLogs/a b+c.log.gz", "size": 10, "etag": "\"e1\"", "sequencer": "1"},
                "request-id": "r", "requester": "111122223333", "reason": "PutObject"}});
        assert_eq!(
            parse(&event.to_string()),
            Ok(Notification::Objects(vec![note("logs-bucket", "AWSLogs/a b+c.log.gz", None, Some("e1"))]))
        );
    }

    #[test]
    fn the_test_event_names_nothing_and_other_bodies_are_refused() {
        let test = r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-30T22:00:00.000Z","Bucket":"logs-bucket","RequestId":"r","HostId":"h"}"#;
        assert_eq!(parse(test), Ok(Notification::Nothing));
        for body in ["", "{}", "[1]", r#"{"Records":"no"}"#, "not json"] {
            assert!(parse(body).is_err(), "{body}");
        }
    }

    #[test]
    fn a_continuation_round_trips() {
        let original = note("b", "k", None, Some("e"));
        let body = continuation(&original, 2001);
        assert_eq!(parse(&body), Ok(Notification::Objects(vec![ObjectNote { next_record: 2001, ..original }])));
    }
}
