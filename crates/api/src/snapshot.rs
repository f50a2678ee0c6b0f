//! snapshot (in progress).
