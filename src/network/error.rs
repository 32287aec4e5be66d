//! Errors of the evaluation-network layer.

use thiserror::Error;

use crate::space::SpaceError;

/// What can go wrong building an evaluation network.
#[non_exhaustive]
#[derive(Debug, Error, Clone, PartialEq)]
pub enum NetworkError {
    /// A configuration value that cannot be built.
    #[error("invalid evaluation-network configuration: {0}")]
    InvalidConfig(String),
    /// A genotype that does not describe a buildable cell.
    #[error("invalid genotype: {0}")]
    Genotype(#[from] SpaceError),
    /// A network, or a weight file, that does not match a reference implementation's
    /// `state_dict` layout: a burn network whose structure the reference model cannot
    /// express (export), or a file whose tensors do not fit the network (import).
    #[error("{what} does not match the {reference} state_dict{}: {reason}", at_tensor(.tensor.as_deref()))]
    ReferenceLayout {
        /// `the network`, or the file's path.
        what: String,
        /// The reference model, e.g. `NAS-Bench-201 TinyNetwork`.
        reference: String,
        /// The reference name of the (first) tensor concerned, where there is one.
        tensor: Option<String>,
        /// What does not match.
        reason: String,
    },
    /// A weight file cannot be written, read or used (I/O, not safetensors, metadata).
    #[error("model weights `{path}`: {reason}")]
    File {
        /// The weight file.
        path: String,
        /// What went wrong.
        reason: String,
    },
}

fn at_tensor(tensor: Option<&str>) -> String {
    tensor.map_or_else(String::new, |t| format!(" at `{t}`"))
}
