//! The HTTP client shared by `check` and `audit`.
