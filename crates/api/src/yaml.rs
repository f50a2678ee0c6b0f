//! yaml (in progress).
