//! The ids of seclog's own rules (`rules/seclog/`, and the alerter's first-seen rules), for code
//! and tests that name one rule. A test checks the Sigma ones against the bundled files.

/// AWS Console Sign-In From Outside the Allowed Addresses (needs `ALLOWED_CIDRS`).
pub const SIGN_IN_OUTSIDE_ALLOWED: &str = "ffb392a5-3809-4121-941a-113858c1bade";
/// AWS Console Sign-In Failed: one failed console sign-in.
pub const SIGN_IN_FAILED: &str = "674ae9a4-edfe-4177-9fd1-394553868e65";
/// AWS Console Sign-In Brute-Force Burst: five or more failed sign-ins from one address within ten
/// minutes (a correlation of [`SIGN_IN_FAILED`]).
pub const SIGN_IN_FAILED_BURST: &str = "0f782939-330e-4fdd-a8cf-9dd67b8a1900";
/// AWS API Call Denied: one `AccessDenied` or `UnauthorizedOperation` error.
pub const ACCESS_DENIED: &str = "d7fc43c5-e73e-46fd-be7b-2bb8ffdecff4";
/// AWS API Calls Denied Burst From One Principal (a correlation of [`ACCESS_DENIED`]).
pub const ACCESS_DENIED_BURST: &str = "9d1267ed-996d-4937-801d-d07790032285";
/// AWS Console Sign-In From a Country New for the User (the alerter's first-seen rule).
pub const NEW_COUNTRY: &str = "2a8f3c1e-6d4b-4e0a-9b57-1f3e8d2c6a90";
/// AWS API Call From a Network New for the Principal (the alerter's first-seen rule).
pub const NEW_NETWORK: &str = "7c1d9e42-3b8a-4f65-a0d2-8e4b6c3f1a57";
