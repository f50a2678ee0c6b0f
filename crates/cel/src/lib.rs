//! CEL for Palisade (placeholder).
