//! Timestamps: the store uses the API crate's [`Timestamp`] (microseconds since
//! the Unix epoch, RFC 3339 in UTC), shared with the CLI.

pub use palisade_api::time::Timestamp;
