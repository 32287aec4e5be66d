//! How a forward pass picks its way through the mixed ops.

use serde::{Deserialize, Serialize};

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

/// The choice of one edge.
#[derive(Debug, Clone, Copy)]
pub(crate) enum EdgeChoice<'a> {
    Weighted(&'a [f32]),
    Single(usize),
}

impl Path {
    pub(crate) fn edge(&self, e: usize) -> Option<EdgeChoice<'_>> {
        match self {
            Path::Weighted(w) => w.get(e).map(|w| EdgeChoice::Weighted(w)),
            Path::SinglePath(i) => i.get(e).map(|&i| EdgeChoice::Single(i)),
        }
    }
}
