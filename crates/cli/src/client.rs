//! The `OpenSearch` client the command uses: the one in `seclog_core::client`.

pub use seclog_core::client::{Client, ClientError};
