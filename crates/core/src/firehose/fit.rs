//! Fitting the response under Lambda's limit: which `Ok` documents it keeps, and its size.

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

/// Which `Ok` documents the response keeps: every other entry is reserved first (at its empty-data
/// size), then documents in request order while they fit.
pub(super) fn fit(event: &FirehoseEvent, steps: &[Step], settings: &Settings) -> Vec<Fit> {
    let max = settings.max_response_bytes;
    let delimiter = usize::from(settings.delimiter == Delimiter::Newline);
    let encoded = |doc: &[u8]| (doc.len() + delimiter).div_ceil(3) * 4;
    let small = |id: &str, result| ResponseRecord::serialised_len(id, result, 0);
    let ids = event.records.iter().map(|r| r.record_id.as_str());
    let mut used = EMPTY_RESPONSE_LEN
        + ids
            .clone()
            .zip(steps)
            .map(|(id, step)| match step {
                // An `Ok` that can never fit is answered `ProcessingFailed`, the longest result.
                Step::Failed(_) | Step::Ok(_) => small(id, RecordResult::ProcessingFailed),
                Step::Dropped(_) | Step::Split(_) => small(id, RecordResult::Dropped),
            })
            .sum::<usize>();
    ids.zip(steps)
        .map(|(id, step)| match step {
            Step::Ok(doc) => {
                let full = ResponseRecord::serialised_len(id, RecordResult::Ok, encoded(doc));
                let instead = small(id, RecordResult::ProcessingFailed);
                if EMPTY_RESPONSE_LEN + full > max {
                    Fit::Never
                } else if used - instead + full <= max {
                    used = used - instead + full;
                    Fit::Keep
                } else {
                    Fit::Reingest
                }
            }
            _ => Fit::Keep,
        })
        .collect()
}
