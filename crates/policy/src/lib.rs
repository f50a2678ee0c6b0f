//! Palisade's pure decisions, no IO: prompt guards today (detectors, masking, a
//! streaming scanner); RBAC, role mapping and access policies join them.

pub mod guard;
