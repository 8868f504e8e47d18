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

/// Classifies a `_bulk` response status.
#[must_use]
pub fn classify_response(status: u16) -> ResponseClass {
    match status {
        200..=299 => ResponseClass::Items,
        413 => ResponseClass::TooLarge,
        408 | 429 | 500 | 502 | 503 | 504 => ResponseClass::RetryAll,
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

/// Classifies an item status.
#[must_use]
pub fn classify_item(op: WriteOp, status: u16) -> ItemClass {
    match (op, status) {
        (_, 200..=299) => ItemClass::Written,
        (WriteOp::Create | WriteOp::IndexExternal { .. }, 409) => ItemClass::AlreadyPresent,
        (_, 429 | 500 | 502 | 503 | 504) => ItemClass::Retry,
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
            assert_eq!(classify_response(status), class, "{status}");
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
            assert_eq!(classify_item(op, status), class, "{op:?} {status}");
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
