//! Gateway (placeholder).
