//! Errors of the op layer.

use thiserror::Error;

/// What can go wrong naming or building a candidate op.
#[non_exhaustive]
#[derive(Debug, Error, Clone, PartialEq)]
pub enum OpError {
    /// An op name that is neither built in nor registered by [`crate::OpKind::user`].
    #[error("unknown op name `{0}`")]
    UnknownOp(String),
    /// A user-op name that cannot be registered.
    #[error("cannot register user op `{name}`: {reason}")]
    InvalidUserOp {
        /// The name given.
        name: String,
        /// Why it was refused.
        reason: String,
    },
    /// An op a built-in network cannot build (a user op, or an MBConv block in a cell).
    #[error("the {network} cannot build op `{op}`: {reason}")]
    NotBuildable {
        /// Which network was being built.
        network: String,
        /// The op.
        op: String,
        /// Why.
        reason: String,
    },
}
