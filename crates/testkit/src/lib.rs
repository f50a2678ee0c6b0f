//! Test helpers (placeholder).
