//! Errors of the zero-cost proxies.

use thiserror::Error;

/// What can go wrong scoring an architecture with a proxy.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum ProxyError {
    /// A proxy name that is not one of [`super::ZeroCostProxy`]'s.
    #[error("unknown proxy `{0}` (expected synflow, naswot, grad_norm, snip or zero_cost)")]
    Unknown(String),
    /// A proxy that needs a batch of data was given none, or an unusable one.
    #[error("proxy `{proxy}`: {reason}")]
    Data {
        /// The proxy.
        proxy: String,
        /// What is wrong with the batch.
        reason: String,
    },
    /// The architecture does not belong to the space of the network built.
    #[error(transparent)]
    Space(#[from] crate::space::SpaceError),
    /// The network of an architecture could not be built.
    #[error("cannot build the network: {0}")]
    Network(String),
    /// The score is not a finite number (an overflow, or a network without weights).
    #[error("proxy `{proxy}` is not finite ({value}) for this network")]
    NonFinite {
        /// The proxy.
        proxy: String,
        /// The value computed.
        value: f64,
    },
}
