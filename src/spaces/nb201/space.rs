//! The NAS-Bench-201 cell space.

use super::Nb201Genotype;
use crate::OpKind;
use crate::space::{Architecture, Edge, OpSet, SearchSpace, SpaceError};

/// The NAS-Bench-201 space: one cell type, 4 nodes, 6 edges, 5 ops
/// (`none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3`): 15,625 architectures.
///
/// Edges are in the order of the architecture string: `1<-0 | 2<-0, 2<-1 | 3<-0, 3<-1, 3<-2`.
///
/// ```
/// use tnd_nas::spaces::nb201::Nb201Space;
/// use tnd_nas::SearchSpace;
/// let space = Nb201Space::new();
/// assert_eq!(space.num_architectures(), Some(15_625));
/// let arch = space.parse("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|")?;
/// assert_eq!(space.describe(&arch), "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|");
/// # Ok::<(), tnd_nas::space::SpaceError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nb201Space {
    ops: OpSet,
    edges: Vec<Edge>,
}

impl Default for Nb201Space {
    fn default() -> Self {
        Self::new()
    }
}

impl Nb201Space {
    /// The standard space.
    pub fn new() -> Self {
        let mut edges = Vec::new();
        for to in 1..4 {
            for from in 0..to {
                edges.push(Edge { cell: 0, from, to });
            }
        }
        Self {
            ops: OpSet::nb201(),
            edges,
        }
    }

    /// Parses an architecture string into an architecture of this space.
    ///
    /// # Errors
    /// [`SpaceError::Parse`] with the position of the problem.
    pub fn parse(&self, text: &str) -> Result<Architecture, SpaceError> {
        let g: Nb201Genotype = text.parse()?;
        let arch = Architecture::new(g.ops.to_vec());
        self.validate(&arch)?;
        Ok(arch)
    }

    /// The genotype of an architecture.
    ///
    /// # Errors
    /// Whatever [`SearchSpace::validate`] reports.
    pub fn genotype(&self, arch: &Architecture) -> Result<Nb201Genotype, SpaceError> {
        self.validate(arch)?;
        let mut ops = [OpKind::None; 6];
        ops.copy_from_slice(arch.ops());
        Ok(Nb201Genotype { ops })
    }
}

impl SearchSpace for Nb201Space {
    fn id(&self) -> String {
        "nb201".into()
    }

    fn cell_types(&self) -> Vec<String> {
        vec!["cell".into()]
    }

    fn edges(&self) -> &[Edge] {
        &self.edges
    }

    fn candidates(&self, _edge: usize) -> &[OpKind] {
        self.ops.ops()
    }

    fn describe(&self, arch: &Architecture) -> String {
        match self.genotype(arch) {
            Ok(g) => g.to_string(),
            Err(e) => format!("<invalid architecture: {e}>"),
        }
    }
}

/// The NAS-Bench-201 cell's edges as `(from, to)` nodes, in space order
/// (`1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2`).
pub const NB201_EDGES: [(usize, usize); 6] = [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)];

/// Which edges of a NAS-Bench-201 cell reach its output, given which carry `none`
/// (`zero[e]`): an edge counts when its op is not `none` and its target node is the
/// output or feeds a counted edge. Cells run only these edges: the others compute
/// values nothing reads, which costs time and, on an autodiff backend, leaves graph
/// nodes that no backward pass reaches and so are never freed (memory grew by about
/// 1 GB a minute training a cell whose output edges are all `none`).
///
/// ```
/// use tnd_nas::spaces::nb201::nb201_live_edges;
/// // Every edge into node 3 is `none`: nothing reaches the output.
/// assert_eq!(nb201_live_edges(&[false, false, false, true, true, true]), [false; 6]);
/// // Node 2 feeds the output, node 1 feeds node 2, nothing leaves the input.
/// assert_eq!(
///     nb201_live_edges(&[true, true, false, true, true, false]),
///     [false, false, true, false, false, true]
/// );
/// // Node 1 feeds only node 2, whose edge to the output is `none`.
/// assert_eq!(
///     nb201_live_edges(&[false, true, false, false, true, true]),
///     [false, false, false, true, false, false]
/// );
/// ```
pub fn nb201_live_edges(zero: &[bool; 6]) -> [bool; 6] {
    let mut used = [false, false, false, true];
    let mut live = [false; 6];
    for node in (0..4).rev() {
        for (e, &(from, to)) in NB201_EDGES.iter().enumerate() {
            if to == node && used[to] && !zero[e] {
                live[e] = true;
                used[from] = true;
            }
        }
    }
    live
}
