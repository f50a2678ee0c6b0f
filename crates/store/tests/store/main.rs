//! The store's integration tests: the conformance suite against SQLite and against
//! a throwaway PostgreSQL server, plus what is specific to each backend.

mod cases;
mod common;
mod postgres;
mod sqlite;
