//! The one retry loop: try the pending items, wait with backoff, try again those an attempt left,
//! until none is left, the attempts are spent, or the next wait would pass the deadline.
//!
//! What an attempt does, and which items it leaves, is the caller's ([`Attempt`]): the `_bulk` sink
//! sends chunks and follows each answer's plan, the `PutRecordBatch` sink puts a batch and keeps the
//! records the stream refused, and `seclog replay` transforms the records Firehose would re-ingest.
//! When to stop is decided here, once.

use std::future::Future;

use tokio::time::Instant;

use super::backoff::Backoff;
use crate::DeliveryError;

/// What an attempt leaves to try again, and why.
#[derive(Debug)]
pub struct Left<T> {
    /// The items to try again (empty: done).
    pub items: Vec<T>,
    /// Why they failed this time (the last reason is the one reported).
    pub reason: String,
}

impl<T> Left<T> {
    /// Nothing left: every item is settled.
    #[must_use]
    pub fn nothing() -> Self {
        Self { items: Vec::new(), reason: String::new() }
    }
}

/// One try over some items.
pub trait Attempt<T> {
    /// Tries `items` (attempt number `attempt`, from 1), returning those to try again.
    ///
    /// # Errors
    /// A failure retrying cannot fix: the loop stops with it at once.
    fn attempt(&mut self, items: Vec<T>, attempt: u32) -> impl Future<Output = Result<Left<T>, DeliveryError>> + Send;
}

/// Tries `items` with `step` until none is left, returning the number of attempts made. An attempt
/// numbered above 1 is a retry of every item it is given: the caller counts retries there.
///
/// # Errors
/// - [`DeliveryError::RetriesExhausted`] when items are still left after `backoff.max_attempts`
///   attempts, or when waiting before the next would pass `deadline`;
/// - the error of an attempt that fails as a whole.
///
/// Either way, what the attempts settled stays settled: the caller's [`Attempt`] keeps that.
pub async fn drive<T, A: Attempt<T>>(
    step: &mut A,
    items: Vec<T>,
    backoff: &Backoff,
    deadline: Instant,
) -> Result<u32, DeliveryError> {
    let mut attempts = 0;
    let mut pending = items;
    loop {
        attempts += 1;
        let left = step.attempt(pending, attempts).await?;
        if left.items.is_empty() {
            return Ok(attempts);
        }
        let delay = backoff.delay(attempts);
        if attempts >= backoff.max_attempts || Instant::now() + delay >= deadline {
            return Err(DeliveryError::RetriesExhausted {
                remaining: left.items.len(),
                attempts,
                last_reason: left.reason,
            });
        }
        tokio::time::sleep(delay).await;
        pending = left.items;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// Fails each item a given number of times, then settles it; records what it was given.
    struct Flaky {
        failures_left: Vec<u32>,
        calls: Vec<Vec<usize>>,
        at: Vec<Instant>,
    }

    impl Flaky {
        fn new(failures: &[u32]) -> Self {
            Self { failures_left: failures.to_vec(), calls: Vec::new(), at: Vec::new() }
        }
    }

    impl Attempt<usize> for Flaky {
        async fn attempt(&mut self, items: Vec<usize>, attempt: u32) -> Result<Left<usize>, DeliveryError> {
            assert_eq!(attempt as usize, self.calls.len() + 1, "attempts are numbered from 1");
            self.calls.push(items.clone());
            self.at.push(Instant::now());
            let mut left = Vec::new();
            for i in items {
                if self.failures_left[i] > 0 {
                    self.failures_left[i] -= 1;
                    left.push(i);
                }
            }
            Ok(Left { items: left, reason: format!("attempt {attempt}") })
        }
    }

    fn backoff(max_attempts: u32) -> Backoff {
        Backoff { base: Duration::from_millis(100), max: Duration::from_secs(1), max_attempts }
    }

    #[tokio::test(start_paused = true)]
    async fn only_what_is_left_is_tried_again_until_nothing_is() {
        let mut step = Flaky::new(&[0, 2, 1, 0]);
        let far = Instant::now() + Duration::from_secs(60);
        let attempts = drive(&mut step, vec![0, 1, 2, 3], &backoff(8), far).await.unwrap();
        assert_eq!(step.calls, [vec![0, 1, 2, 3], vec![1, 2], vec![1]]);
        assert_eq!(attempts, 3);
    }

    #[tokio::test(start_paused = true)]
    async fn the_last_attempt_reports_what_is_left_and_its_reason() {
        let mut step = Flaky::new(&[9, 0, 9]);
        let far = Instant::now() + Duration::from_secs(60);
        let err = drive(&mut step, vec![0, 1, 2], &backoff(3), far).await.unwrap_err();
        assert_eq!(step.calls.len(), 3);
        let DeliveryError::RetriesExhausted { remaining, attempts, last_reason } = err else { panic!("{err}") };
        assert_eq!((remaining, attempts, last_reason.as_str()), (2, 3, "attempt 3"));
    }

    #[tokio::test(start_paused = true)]
    async fn no_wait_passes_the_deadline() {
        let start = Instant::now();
        let deadline = start + Duration::from_millis(250);
        // Waits are at most 100, 200, 400… ms: the loop gives up before a wait would end past 250 ms.
        let slow = Backoff { base: Duration::from_millis(100), max: Duration::from_secs(10), max_attempts: 100 };
        for _ in 0..20 {
            let mut step = Flaky::new(&[99]);
            let err = drive(&mut step, vec![0], &slow, deadline).await.unwrap_err();
            assert!(matches!(err, DeliveryError::RetriesExhausted { remaining: 1, .. }), "{err}");
            assert!(step.at.iter().all(|&t| t < deadline), "an attempt started after the deadline");
            assert!(Instant::now() < deadline, "the loop slept past the deadline");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_attempt_that_fails_as_a_whole_stops_the_loop_at_once() {
        struct Refusing(u32);
        impl Attempt<usize> for Refusing {
            async fn attempt(&mut self, items: Vec<usize>, _: u32) -> Result<Left<usize>, DeliveryError> {
                self.0 += 1;
                if self.0 == 2 {
                    return Err(DeliveryError::Refused { status: 403, reason: "no".into() });
                }
                Ok(Left { items, reason: "again".into() })
            }
        }
        let mut step = Refusing(0);
        let far = Instant::now() + Duration::from_secs(60);
        let err = drive(&mut step, vec![1], &backoff(8), far).await.unwrap_err();
        assert!(matches!(err, DeliveryError::Refused { status: 403, .. }), "{err}");
        assert_eq!(step.0, 2);
    }

    #[tokio::test(start_paused = true)]
    async fn nothing_to_try_is_one_empty_attempt() {
        let mut step = Flaky::new(&[]);
        let far = Instant::now() + Duration::from_secs(1);
        assert_eq!(drive(&mut step, Vec::new(), &backoff(1), far).await.unwrap(), 1);
        assert_eq!(step.calls, [Vec::<usize>::new()]);
    }
}
