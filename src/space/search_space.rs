//! The `SearchSpace` trait.

use serde::{Deserialize, Serialize};

use super::{Architecture, FinalArchitecture, SpaceError};
use crate::OpKind;

/// One decision point of a space: an edge `from -> to` inside a cell of type `cell`.
///
/// Node numbering follows DARTS: in a DARTS cell nodes 0 and 1 are the two cell inputs
/// and intermediate node `i` is node `i + 2`; in a NAS-Bench-201 cell node 0 is the input.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Edge {
    /// Index into [`SearchSpace::cell_types`]; alpha is shared by all cells of a type.
    pub cell: usize,
    /// Source node.
    pub from: usize,
    /// Target node.
    pub to: usize,
}

/// A space of architectures: edges grouped by cell type, and the candidate ops of each.
///
/// Implement it for your own space by listing the edges and their candidates; the
/// validation and size methods have default implementations.
///
/// ```
/// use tnd_nas::{Architecture, OpKind, SearchSpace};
/// use tnd_nas::space::{Edge, SpaceError};
///
/// /// A chain of three edges, each a choice between a 3x3 and a 1x1 conv.
/// #[derive(Debug)]
/// struct Chain { edges: Vec<Edge>, ops: Vec<OpKind> }
///
/// impl SearchSpace for Chain {
///     fn id(&self) -> String { "chain-3".into() }
///     fn cell_types(&self) -> Vec<String> { vec!["cell".into()] }
///     fn edges(&self) -> &[Edge] { &self.edges }
///     fn candidates(&self, _edge: usize) -> &[OpKind] { &self.ops }
/// }
///
/// let space = Chain {
///     edges: (0..3).map(|i| Edge { cell: 0, from: i, to: i + 1 }).collect(),
///     ops: vec![OpKind::NorConv3x3, OpKind::NorConv1x1],
/// };
/// assert_eq!(space.num_architectures(), Some(8));
/// assert!(space.validate(&Architecture::new(vec![OpKind::NorConv1x1; 3])).is_ok());
/// assert!(matches!(
///     space.validate(&Architecture::new(vec![OpKind::None; 3])),
///     Err(SpaceError::OpNotAllowed { .. })
/// ));
/// ```
pub trait SearchSpace: std::fmt::Debug + Send + Sync {
    /// A stable identifier that changes whenever the space changes (node count, op
    /// sets); checkpoints of one space are refused by another.
    fn id(&self) -> String;

    /// Names of the cell types; every [`Edge::cell`] indexes this list.
    fn cell_types(&self) -> Vec<String>;

    /// The decision points, in the order an [`Architecture`] lists its ops.
    fn edges(&self) -> &[Edge];

    /// The candidate ops of edge `edge` (an index into [`SearchSpace::edges`]).
    fn candidates(&self, edge: usize) -> &[OpKind];

    /// The candidate ops of every edge, in edge order.
    fn all_candidates(&self) -> Vec<Vec<OpKind>> {
        (0..self.edges().len())
            .map(|e| self.candidates(e).to_vec())
            .collect()
    }

    /// Checks that `arch` has one allowed op per edge.
    ///
    /// # Errors
    /// [`SpaceError::WrongLength`] or [`SpaceError::OpNotAllowed`].
    fn validate(&self, arch: &Architecture) -> Result<(), SpaceError> {
        let edges = self.edges();
        if arch.len() != edges.len() {
            return Err(SpaceError::WrongLength {
                expected: edges.len(),
                found: arch.len(),
            });
        }
        let types = self.cell_types();
        for (e, (edge, op)) in edges.iter().zip(arch.ops()).enumerate() {
            let allowed = self.candidates(e);
            if !allowed.contains(op) {
                return Err(SpaceError::OpNotAllowed {
                    edge: e,
                    cell: types.get(edge.cell).cloned().unwrap_or_default(),
                    from: edge.from,
                    to: edge.to,
                    op: op.to_string(),
                    allowed: allowed
                        .iter()
                        .map(|o| o.name())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
        }
        Ok(())
    }

    /// The number of architectures, or `None` if it does not fit a `u128`.
    fn num_architectures(&self) -> Option<u128> {
        (0..self.edges().len()).try_fold(1u128, |acc, e| {
            acc.checked_mul(self.candidates(e).len() as u128)
        })
    }

    /// log10 of the number of architectures (always finite).
    fn log10_size(&self) -> f64 {
        (0..self.edges().len())
            .map(|e| (self.candidates(e).len() as f64).log10())
            .sum()
    }

    /// A human-readable text of an architecture (a genotype string for built-in spaces).
    fn describe(&self, arch: &Architecture) -> String {
        arch.ops()
            .iter()
            .map(|o| o.name())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The final architecture of a search in every notation the space has (the DARTS
    /// space adds its genotype and the DARTS text); by default just
    /// [`SearchSpace::describe`].
    fn finalize(&self, architecture: Architecture) -> FinalArchitecture {
        FinalArchitecture {
            text: self.describe(&architecture),
            darts_text: None,
            genotype: None,
            architecture,
        }
    }
}

/// A shared space is a space: a search can hold an `Arc<dyn SearchSpace>`.
impl<S: SearchSpace + ?Sized> SearchSpace for std::sync::Arc<S> {
    fn id(&self) -> String {
        (**self).id()
    }
    fn cell_types(&self) -> Vec<String> {
        (**self).cell_types()
    }
    fn edges(&self) -> &[Edge] {
        (**self).edges()
    }
    fn candidates(&self, edge: usize) -> &[OpKind] {
        (**self).candidates(edge)
    }
    fn all_candidates(&self) -> Vec<Vec<OpKind>> {
        (**self).all_candidates()
    }
    fn validate(&self, arch: &Architecture) -> Result<(), SpaceError> {
        (**self).validate(arch)
    }
    fn num_architectures(&self) -> Option<u128> {
        (**self).num_architectures()
    }
    fn log10_size(&self) -> f64 {
        (**self).log10_size()
    }
    fn describe(&self, arch: &Architecture) -> String {
        (**self).describe(arch)
    }
    fn finalize(&self, architecture: Architecture) -> FinalArchitecture {
        (**self).finalize(architecture)
    }
}
