//! How a forward pass picks its way through the mixed ops.

use burn::tensor::{Tensor, backend::Backend};
use serde::{Deserialize, Serialize};

use super::SuperNetError;
use crate::ops::weighted_sum;

/// The choice made on every edge of the space for one forward pass, in the edge order
/// of the [`crate::SearchSpace`] (a DARTS space lists normal-cell edges, then
/// reduction-cell edges; every cell of a type uses the same row).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Path {
    /// Each edge outputs the weighted sum of its active ops (e.g. `softmax(alpha)`).
    /// `Weighted(w)[e][i]` weighs active op `i` of edge `e`; ops of weight exactly 0
    /// are not run.
    Weighted(Vec<Vec<f32>>),
    /// Each edge runs one active op only (an index into that edge's active ops).
    SinglePath(Vec<usize>),
}

impl Path {
    /// Number of edges the path covers.
    pub fn len(&self) -> usize {
        match self {
            Path::Weighted(w) => w.len(),
            Path::SinglePath(i) => i.len(),
        }
    }

    /// True if the path covers no edge.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The one-hot weighted path equivalent to a single path.
    pub fn one_hot(choices: &[usize], active_counts: &[usize]) -> Path {
        Path::Weighted(
            choices
                .iter()
                .zip(active_counts)
                .map(|(&c, &n)| (0..n).map(|i| if i == c { 1.0 } else { 0.0 }).collect())
                .collect(),
        )
    }
}

/// The choice a [`Path`] makes on one edge.
#[derive(Debug, Clone, Copy)]
pub enum EdgeChoice<'a> {
    /// Weights of the edge's active ops.
    Weighted(&'a [f32]),
    /// The index of the one active op to run.
    Single(usize),
}

impl EdgeChoice<'_> {
    /// Runs the choice over an edge of `ops` active ops, `run(i)` forwarding op `i`
    /// (`None` for an op that outputs zeros, such as `none`): the weighted sum of the ops
    /// of non-zero weight, or the one chosen op. `Ok(None)` when no op contributed (the
    /// edge outputs zeros). This is how [`super::MixedOp`] mixes; a supernet of your own
    /// calls it on its edges.
    ///
    /// # Errors
    /// [`SuperNetError::PathMismatch`] if the weights or index do not fit `ops`.
    pub fn mix<B: Backend>(
        self,
        ops: usize,
        mut run: impl FnMut(usize) -> Option<Tensor<B, 4>>,
    ) -> Result<Option<Tensor<B, 4>>, SuperNetError> {
        match self {
            EdgeChoice::Weighted(w) => {
                if w.len() != ops {
                    return Err(SuperNetError::PathMismatch(format!(
                        "{} weights for {ops} active ops",
                        w.len()
                    )));
                }
                let terms = w
                    .iter()
                    .enumerate()
                    .filter(|&(_, &wi)| wi != 0.0)
                    .filter_map(|(i, &wi)| run(i).map(|y| (y, wi)))
                    .collect();
                Ok(weighted_sum(terms))
            }
            EdgeChoice::Single(i) if i < ops => Ok(run(i)),
            EdgeChoice::Single(i) => Err(SuperNetError::PathMismatch(format!(
                "op index {i} but the edge has {ops} active ops"
            ))),
        }
    }
}

impl Path {
    /// The choice on edge `e`, if the path covers it.
    pub fn edge(&self, e: usize) -> Option<EdgeChoice<'_>> {
        match self {
            Path::Weighted(w) => w.get(e).map(|w| EdgeChoice::Weighted(w)),
            Path::SinglePath(i) => i.get(e).map(|&i| EdgeChoice::Single(i)),
        }
    }
}
