//! A discrete architecture: one op per decision point of a space.

use serde::{Deserialize, Serialize};

use crate::OpKind;

/// One op per edge of a [`crate::SearchSpace`], in the order of [`crate::SearchSpace::edges`].
///
/// Serialises as a JSON list of op names.
///
/// ```
/// use tnd_nas::{Architecture, OpKind};
/// let arch = Architecture::new(vec![OpKind::SkipConnect, OpKind::NorConv3x3]);
/// assert_eq!(serde_json::to_string(&arch)?, r#"["skip_connect","nor_conv_3x3"]"#);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Architecture {
    ops: Vec<OpKind>,
}

impl Architecture {
    /// An architecture from its ops, one per edge.
    pub fn new(ops: Vec<OpKind>) -> Self {
        Self { ops }
    }

    /// The ops, one per edge.
    pub fn ops(&self) -> &[OpKind] {
        &self.ops
    }

    /// The op on edge `edge`, if the edge exists.
    pub fn op(&self, edge: usize) -> Option<OpKind> {
        self.ops.get(edge).copied()
    }

    /// Number of edges.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// True for an architecture of no edges.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}
