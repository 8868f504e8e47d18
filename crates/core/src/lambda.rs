//! What every handler needs from the Lambda runtime.

use std::time::Duration;

use chrono::Utc;
use tokio::time::Instant;

/// Converts the runtime's deadline (epoch milliseconds) into an [`Instant`], less the margin.
#[must_use]
pub fn deadline_of(deadline_ms: u64, margin: Duration) -> Instant {
    let now_ms = u64::try_from(Utc::now().timestamp_millis()).unwrap_or(0);
    let left = Duration::from_millis(deadline_ms.saturating_sub(now_ms)).saturating_sub(margin);
    Instant::now() + left
}
