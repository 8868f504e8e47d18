//! Fitting the response under Lambda's limit as it is filled: which `Ok` documents it keeps, where
//! it is full, and its size.

use super::step::Step;
use super::{Delimiter, Settings};
use crate::envelope::firehose::{FirehoseEvent, FirehoseResponse, RecordResult, ResponseRecord};

/// The serialised size of a response.
#[must_use]
pub fn response_len(response: &FirehoseResponse) -> usize {
    EMPTY_RESPONSE_LEN
        + response
            .records
            .iter()
            .map(|r| ResponseRecord::serialised_len(&r.record_id, r.result, r.data.len()))
            .sum::<usize>()
        - usize::from(!response.records.is_empty())
}

/// `{"records":[]}`
pub(super) const EMPTY_RESPONSE_LEN: usize = 14;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fit {
    Keep,
    Reingest,
    Never,
}

/// The response, filled in request order. Every entry not yet placed is reserved at its longest
/// answer without data (`ProcessingFailed`), so a document is kept only when the response
/// provably has room for it and for an answer to every record after it. The first document that
/// does not fit fills it: the records after it are put back as they came, untransformed.
pub(super) struct Room {
    max: usize,
    used: usize,
    delimiter: usize,
    full: bool,
}

/// The length of `id`'s entry answered `result` without data.
fn small(id: &str, result: RecordResult) -> usize {
    ResponseRecord::serialised_len(id, result, 0)
}

impl Room {
    pub(super) fn new(event: &FirehoseEvent, settings: &Settings) -> Self {
        let reserved: usize = event.records.iter().map(|r| small(&r.record_id, RecordResult::ProcessingFailed)).sum();
        Self {
            max: settings.max_response_bytes,
            used: EMPTY_RESPONSE_LEN + reserved,
            delimiter: usize::from(settings.delimiter == Delimiter::Newline),
            full: false,
        }
    }

    /// Whether a document did not fit: nothing after it is transformed.
    pub(super) fn is_full(&self) -> bool {
        self.full
    }

    /// Where record `id`'s step goes: an `Ok` document is kept while it fits, re-ingested when
    /// it does not (and the response is full), failed when no response could hold it; a
    /// dropped or split record gives back what its shorter answer does not need.
    pub(super) fn place(&mut self, id: &str, step: &Step) -> Fit {
        let instead = small(id, RecordResult::ProcessingFailed);
        match step {
            Step::Ok(doc) => {
                let encoded = (doc.len() + self.delimiter).div_ceil(3) * 4;
                let full = ResponseRecord::serialised_len(id, RecordResult::Ok, encoded);
                if EMPTY_RESPONSE_LEN + full > self.max {
                    Fit::Never
                } else if self.used - instead + full <= self.max {
                    self.used = self.used - instead + full;
                    Fit::Keep
                } else {
                    self.full = true;
                    Fit::Reingest
                }
            }
            Step::Dropped(_) | Step::Split(_) | Step::Deferred => {
                self.used -= instead - small(id, RecordResult::Dropped);
                Fit::Keep
            }
            Step::Failed(_) => Fit::Keep,
        }
    }
}
