//! The one error type of policy loading: which file, which field, what is wrong.

use std::fmt;

/// A policy that cannot be used, with the field path that is wrong (e.g. `backend.url`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PolicyError {
    /// Name of the policy source, usually its file path.
    pub source_name: String,
    /// Dotted path of the offending field, empty when the whole file is at fault.
    pub field: String,
    /// What is wrong, in words an operator understands.
    pub message: String,
}

impl PolicyError {
    /// A new error for `field` of the policy named `source_name`.
    pub fn new(source_name: &str, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { source_name: source_name.to_owned(), field: field.into(), message: message.into() }
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}: {}", self.source_name, self.message)
        } else {
            write!(f, "{}: field `{}`: {}", self.source_name, self.field, self.message)
        }
    }
}
