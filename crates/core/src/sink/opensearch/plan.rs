//! What to do after one `_bulk` request, decided without I/O: the answer read as a [`Reply`]
//! ([`reply_of`]), and the reply turned into a [`Plan`] for the request's documents ([`plan`]).
//! The sink only sends requests and carries plans out, so every retry decision is tested here on
//! canned answers.

use super::response::{self, BulkResponse};
use super::retry::{classify_item, classify_response, ItemClass, ResponseClass};
use crate::document::WriteOp;
use crate::DeliveryError;

/// The longest server reason kept in a dead-letter document or error.
pub const MAX_REASON: usize = 1000;

/// One item's result: its status, its `error.type` and reason (empty when it succeeded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemResult {
    /// The item's HTTP status.
    pub status: u16,
    /// `error.type`, or empty.
    pub error_type: String,
    /// `error.reason` (at most [`MAX_REASON`] bytes), or empty.
    pub reason: String,
}

/// What one bulk request came back with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// One result per document sent, in order.
    Items(Vec<ItemResult>),
    /// Nothing usable (a transport failure, a retryable status, an answer that does not match
    /// the request): every document is tried again, for this reason.
    RetryAll(String),
    /// 413: the request was too large.
    TooLarge,
}

/// Reads a whole answer: its status and body, for a request of `sent` documents.
///
/// # Errors
/// [`DeliveryError::Refused`] when the cluster refuses the request itself (auth, endpoint):
/// retrying cannot help, the invocation fails.
pub fn reply_of(status: u16, body: &[u8], sent: usize) -> Result<Reply, DeliveryError> {
    let error_type = if (200..300).contains(&status) { String::new() } else { response::error_type(body) };
    match classify_response(status, &error_type) {
        ResponseClass::RetryAll if error_type.is_empty() => Ok(Reply::RetryAll(format!("status {status}"))),
        ResponseClass::RetryAll => Ok(Reply::RetryAll(format!("status {status} {error_type}"))),
        ResponseClass::TooLarge => Ok(Reply::TooLarge),
        ResponseClass::Refused => {
            Err(DeliveryError::Refused { status, reason: shorten(&String::from_utf8_lossy(body)) })
        }
        ResponseClass::Items => Ok(items(body, sent)),
    }
}

/// Reads per-item results; a body that does not match the request is retried as a whole.
fn items(body: &[u8], expected: usize) -> Reply {
    let Ok(parsed) = BulkResponse::parse(body) else {
        return Reply::RetryAll("the bulk response could not be parsed".into());
    };
    if parsed.items.len() != expected {
        return Reply::RetryAll(format!("the bulk response has {} items for {expected} sent", parsed.items.len()));
    }
    let mut results = Vec::with_capacity(expected);
    for item in parsed.results() {
        let Some(item) = item else {
            return Reply::RetryAll("a bulk response item has no action".into());
        };
        let (error_type, reason) = item.error.map(|e| (e.kind, e.reason.unwrap_or_default())).unwrap_or_default();
        results.push(ItemResult { status: item.status, error_type, reason: shorten(&reason) });
    }
    Reply::Items(results)
}

/// What becomes of the documents of one request (positions in the delivery).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Written now.
    pub written: Vec<usize>,
    /// Already there (a redelivery, or a newer state): done.
    pub already_present: Vec<usize>,
    /// To send again after a back-off, while the budget lasts.
    pub retry: Vec<usize>,
    /// Why they are retried.
    pub retry_reason: Option<String>,
    /// Never going to be written as they are: dead-letter each with its result.
    pub permanent: Vec<(usize, ItemResult)>,
    /// Sent again at once as two requests, each half of this one (after a 413).
    pub split: Option<(Vec<usize>, Vec<usize>)>,
}

/// The plan for `chunk` (positions of documents written with `op_of(position)`) after `reply`.
#[must_use]
pub fn plan(chunk: &[usize], op_of: impl Fn(usize) -> WriteOp, reply: Reply) -> Plan {
    let mut plan = Plan::default();
    match reply {
        Reply::Items(results) => {
            for (&i, result) in chunk.iter().zip(results) {
                match classify_item(op_of(i), result.status, &result.error_type) {
                    ItemClass::Written => plan.written.push(i),
                    ItemClass::AlreadyPresent => plan.already_present.push(i),
                    ItemClass::Retry => {
                        plan.retry_reason = Some(format!("item status {} {}", result.status, result.error_type));
                        plan.retry.push(i);
                    }
                    ItemClass::Permanent => plan.permanent.push((i, result)),
                }
            }
        }
        Reply::RetryAll(reason) => {
            plan.retry = chunk.to_vec();
            plan.retry_reason = Some(reason);
        }
        Reply::TooLarge if chunk.len() > 1 => {
            let (a, b) = chunk.split_at(chunk.len() / 2);
            plan.split = Some((a.to_vec(), b.to_vec()));
        }
        Reply::TooLarge => {
            let result = ItemResult {
                status: 413,
                error_type: "request_entity_too_large".into(),
                reason: "the document alone is larger than the cluster accepts".into(),
            };
            plan.permanent.extend(chunk.iter().map(|&i| (i, result.clone())));
        }
    }
    plan
}

/// At most [`MAX_REASON`] bytes of `s`, cut at a character boundary.
#[must_use]
pub fn shorten(s: &str) -> String {
    let mut end = s.len().min(MAX_REASON);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CREATE: fn(usize) -> WriteOp = |_| WriteOp::Create;

    fn item(status: u16, error: Option<&str>) -> String {
        let error = error.map_or(String::new(), |t| format!(r#","error":{{"type":"{t}","reason":"{t} happened"}}"#));
        format!(r#"{{"create":{{"_index":"i","_id":"x","status":{status}{error}}}}}"#)
    }

    fn answer(items: &[String]) -> Vec<u8> {
        format!(r#"{{"took":1,"errors":true,"items":[{}]}}"#, items.join(",")).into_bytes()
    }

    #[test]
    fn each_item_is_written_already_present_retried_or_dead_lettered() {
        let body = answer(&[
            item(201, None),
            item(409, Some("version_conflict_engine_exception")),
            item(429, Some("es_rejected_execution_exception")),
            item(400, Some("mapper_parsing_exception")),
            item(403, Some("cluster_block_exception")),
        ]);
        let plan = plan(&[10, 11, 12, 13, 14], CREATE, reply_of(200, &body, 5).unwrap());
        assert_eq!((plan.written, plan.already_present, plan.retry), (vec![10], vec![11], vec![12, 14]));
        assert_eq!(plan.retry_reason.as_deref(), Some("item status 403 cluster_block_exception"));
        let [(13, refused)] = plan.permanent.as_slice() else { panic!("{:?}", plan.permanent) };
        assert_eq!((refused.status, refused.error_type.as_str()), (400, "mapper_parsing_exception"));
        assert_eq!(refused.reason, "mapper_parsing_exception happened");
        assert!(plan.split.is_none());
    }

    #[test]
    fn a_stale_external_version_is_already_present_not_a_failure() {
        let body = answer(&[item(409, Some("version_conflict_engine_exception"))]);
        let plan = plan(&[0], |_| WriteOp::IndexExternal { version: 7 }, reply_of(200, &body, 1).unwrap());
        assert_eq!((plan.already_present, plan.permanent.len()), (vec![0], 0));
    }

    #[test]
    fn an_answer_that_does_not_match_the_request_retries_every_document() {
        let two = answer(&[item(201, None), item(201, None)]);
        let reply = reply_of(200, &two, 3).unwrap();
        assert_eq!(reply, Reply::RetryAll("the bulk response has 2 items for 3 sent".into()));
        let plan = plan(&[0, 1, 2], CREATE, reply);
        assert_eq!((plan.retry, plan.written), (vec![0, 1, 2], vec![]));
        for garbage in [&b"<html>gateway</html>"[..], b"", br#"{"items":[{}]}"#] {
            let reply = reply_of(200, garbage, 1).unwrap();
            assert!(matches!(reply, Reply::RetryAll(_)), "{garbage:?}: {reply:?}");
        }
    }

    #[test]
    fn a_413_splits_down_to_one_document_which_is_then_dead_lettered() {
        let reply = reply_of(413, b"", 5).unwrap();
        assert_eq!(reply, Reply::TooLarge);
        let halves = plan(&[0, 1, 2, 3, 4], CREATE, reply.clone());
        assert_eq!(halves.split, Some((vec![0, 1], vec![2, 3, 4])));
        assert!(halves.retry.is_empty() && halves.permanent.is_empty());
        let one = plan(&[3], CREATE, reply);
        assert_eq!(one.permanent.len(), 1);
        assert_eq!((one.permanent[0].0, one.permanent[0].1.status), (3, 413));
    }

    #[test]
    fn busy_clusters_are_retried_and_refusals_fail_the_invocation() {
        for (status, body, want) in [
            (429, &b""[..], "status 429"),
            (503, b"", "status 503"),
            (
                403,
                br#"{"error":{"type":"cluster_block_exception"},"status":403}"#,
                "status 403 cluster_block_exception",
            ),
        ] {
            assert_eq!(reply_of(status, body, 2).unwrap(), Reply::RetryAll(want.into()));
        }
        let err = reply_of(403, br#"{"message":"User: arn:aws:sts::1:assumed-role/x is not authorized"}"#, 2);
        assert!(matches!(err, Err(DeliveryError::Refused { status: 403, .. })), "{err:?}");
        assert!(matches!(reply_of(400, b"{}", 1), Err(DeliveryError::Refused { status: 400, .. })));
    }

    #[test]
    fn a_spent_budget_between_requests_retries_the_rest() {
        // The sink answers a request it has no time left to send with this reply.
        let plan = plan(&[4, 5], CREATE, Reply::RetryAll("time budget spent".into()));
        assert_eq!((plan.retry, plan.retry_reason.as_deref()), (vec![4, 5], Some("time budget spent")));
    }

    #[test]
    fn reasons_are_cut_at_a_character_boundary() {
        let long = "é".repeat(MAX_REASON);
        let cut = shorten(&long);
        assert!(cut.len() <= MAX_REASON && cut.chars().all(|c| c == 'é'));
    }
}
