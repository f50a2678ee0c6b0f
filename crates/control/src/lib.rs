//! Control plane (placeholder).
