//! Helpers for brig's integration tests.
