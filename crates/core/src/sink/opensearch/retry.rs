//! Retry rules as data: what a response status or an item status means, and how long to wait.

use crate::document::WriteOp;
pub use crate::sink::backoff::Backoff;

/// What to do with a whole bulk response, by its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseClass {
    /// Read the per-item results.
    Items,
    /// Retry every item of the request later.
    RetryAll,
    /// The request was too large: split it.
    TooLarge,
    /// The cluster refuses us (auth, endpoint): fail the invocation.
    Refused,
}

/// Errors that say "not now" rather than "never": the write may succeed once an operator or the
/// cluster acts, so the item is retried within the budget and then fails the invocation — it is never
/// dead-lettered.
///
/// - `cluster_block_exception`: a write block, at any status — Amazon `OpenSearch` Service's
///   low-storage block (`FORBIDDEN/8/index write (api)`), a read-only index
///   (`FORBIDDEN/5/index read-only (api)`, `FORBIDDEN/12/index read-only / allow delete (api)`);
/// - `index_closed_exception`: the index is closed;
/// - `index_not_found_exception`: the index is not there and auto-create is off;
/// - `security_exception` (401/403): a role mapping not yet in place, or being changed.
#[must_use]
pub fn is_transient_error(status: u16, error_type: &str) -> bool {
    match error_type {
        "cluster_block_exception" | "index_closed_exception" | "index_not_found_exception" => true,
        "security_exception" => matches!(status, 401 | 403),
        _ => false,
    }
}

/// Classifies a `_bulk` response by its status and, for a failure, the `error.type` of its body.
#[must_use]
pub fn classify_response(status: u16, error_type: &str) -> ResponseClass {
    match status {
        200..=299 => ResponseClass::Items,
        413 => ResponseClass::TooLarge,
        408 | 429 | 500 | 502 | 503 | 504 => ResponseClass::RetryAll,
        _ if is_transient_error(status, error_type) => ResponseClass::RetryAll,
        _ => ResponseClass::Refused,
    }
}

/// The fate of one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemClass {
    /// Written now.
    Written,
    /// Already there: a 409 on `create` (a redelivery), or a stale external version (a newer
    /// state is there). Both are successes.
    AlreadyPresent,
    /// Try again later.
    Retry,
    /// Will never succeed as it is: dead-letter it.
    Permanent,
}

/// Classifies an item by its status and its `error.type`.
#[must_use]
pub fn classify_item(op: WriteOp, status: u16, error_type: &str) -> ItemClass {
    match (op, status) {
        (_, 200..=299) => ItemClass::Written,
        (WriteOp::Create | WriteOp::IndexExternal { .. }, 409) => ItemClass::AlreadyPresent,
        (_, 429 | 500 | 502 | 503 | 504) => ItemClass::Retry,
        _ if is_transient_error(status, error_type) => ItemClass::Retry,
        _ => ItemClass::Permanent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn response_table() {
        let table = [
            (200, ResponseClass::Items),
            (413, ResponseClass::TooLarge),
            (429, ResponseClass::RetryAll),
            (502, ResponseClass::RetryAll),
            (503, ResponseClass::RetryAll),
            (504, ResponseClass::RetryAll),
            (500, ResponseClass::RetryAll),
            (401, ResponseClass::Refused),
            (403, ResponseClass::Refused),
            (404, ResponseClass::Refused),
            (400, ResponseClass::Refused),
        ];
        for (status, class) in table {
            assert_eq!(classify_response(status, "some_exception"), class, "{status}");
        }
    }

    /// A "not now" error is retried whether the whole response or one item carries it; any other
    /// error refuses the request, or dead-letters the item.
    #[test]
    fn write_blocks_and_not_yet_permitted_requests_are_retried() {
        use {ItemClass as Item, ResponseClass as Response};
        let table = [
            (403, "cluster_block_exception", Response::RetryAll, Item::Retry),
            (400, "cluster_block_exception", Response::RetryAll, Item::Retry),
            (429, "cluster_block_exception", Response::RetryAll, Item::Retry),
            (400, "index_closed_exception", Response::RetryAll, Item::Retry),
            (404, "index_not_found_exception", Response::RetryAll, Item::Retry),
            (403, "security_exception", Response::RetryAll, Item::Retry),
            (401, "security_exception", Response::RetryAll, Item::Retry),
            (400, "security_exception", Response::Refused, Item::Permanent),
            (403, "", Response::Refused, Item::Permanent), // IAM's own refusal has no `type`: fail fast
            (400, "illegal_argument_exception", Response::Refused, Item::Permanent),
            (400, "mapper_parsing_exception", Response::Refused, Item::Permanent),
            (400, "version_conflict_engine_exception", Response::Refused, Item::Permanent),
        ];
        for (status, error_type, response, item) in table {
            assert_eq!(classify_response(status, error_type), response, "{status} {error_type}");
            assert_eq!(classify_item(WriteOp::Create, status, error_type), item, "{status} {error_type}");
        }
    }

    #[test]
    fn item_table() {
        let ext = WriteOp::IndexExternal { version: 1 };
        let table = [
            (WriteOp::Create, 201, ItemClass::Written),
            (ext, 200, ItemClass::Written),
            (WriteOp::Create, 409, ItemClass::AlreadyPresent),
            (ext, 409, ItemClass::AlreadyPresent),
            (WriteOp::Create, 429, ItemClass::Retry),
            (WriteOp::Create, 503, ItemClass::Retry),
            (WriteOp::Create, 400, ItemClass::Permanent),
            (WriteOp::Create, 404, ItemClass::Permanent),
            (WriteOp::Create, 501, ItemClass::Permanent),
        ];
        for (op, status, class) in table {
            assert_eq!(classify_item(op, status, "mapper_parsing_exception"), class, "{op:?} {status}");
        }
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let b = Backoff { base: Duration::from_millis(100), max: Duration::from_secs(1), max_attempts: 5 };
        assert_eq!(b.ceiling(1), Duration::from_millis(100));
        assert_eq!(b.ceiling(2), Duration::from_millis(200));
        assert_eq!(b.ceiling(4), Duration::from_millis(800));
        assert_eq!(b.ceiling(5), Duration::from_secs(1));
        assert_eq!(b.ceiling(60), Duration::from_secs(1));
        for retry in 1..10 {
            assert!(b.delay(retry) <= b.ceiling(retry));
        }
    }
}
