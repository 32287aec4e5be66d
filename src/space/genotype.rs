//! Genotypes: the discrete cells an evaluation network is built from.

use serde::{Deserialize, Serialize};

use crate::OpKind;

/// One input edge of a node: an op applied to an earlier node.
///
/// Nodes 0 and 1 are the cell's two inputs; intermediate node `i` is node `i + 2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GenotypeEdge {
    /// The op on the edge.
    pub op: OpKind,
    /// The source node.
    pub from: usize,
}

impl GenotypeEdge {
    /// An edge applying `op` to node `from`.
    pub fn new(op: OpKind, from: usize) -> Self {
        Self { op, from }
    }
}

/// One cell: the input edges of every intermediate node (any in-degree, including 0)
/// and the nodes concatenated into the cell output.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CellGenotype {
    /// `nodes[i]` lists the inputs of intermediate node `i` (node index `i + 2`).
    pub nodes: Vec<Vec<GenotypeEdge>>,
    /// Node indices (>= 2) whose outputs are concatenated.
    pub concat: Vec<usize>,
}

impl CellGenotype {
    /// Whether the cell's output reads one of its inputs: some node of the concat is
    /// reached from input 0 or 1 through edges that are not `none`. A cell whose
    /// concatenated nodes are all empty (or fed only by empty nodes) outputs zeros
    /// whatever its input.
    pub fn reads_inputs(&self) -> bool {
        let mut live = vec![true, true];
        for inputs in &self.nodes {
            let reached = inputs
                .iter()
                .any(|e| e.op != OpKind::None && live.get(e.from).copied().unwrap_or(false));
            live.push(reached);
        }
        self.concat
            .iter()
            .any(|&n| live.get(n).copied().unwrap_or(false))
    }
}

impl Genotype {
    /// Refuses a genotype with a cell whose output reads none of its inputs (see
    /// [`CellGenotype::reads_inputs`]): its network would compute the same output for
    /// every image. Empty nodes are otherwise allowed (the TND notation derives them).
    ///
    /// ```
    /// use tnd_nas::Genotype;
    /// let ok = Genotype::parse_tnd("TndGenotype(normal=[[('conv_3x3', 0)], []], normal_concat=[2, 3], reduce=[[], [('skip_connect', 2), ('max_pool_3x3', 1)]], reduce_concat=[2, 3])")?;
    /// assert!(ok.check_reads_inputs().is_ok());
    /// let dead = Genotype::parse_tnd("TndGenotype(normal=[[], []], normal_concat=[2, 3], reduce=[[('skip_connect', 0)], []], reduce_concat=[2, 3])")?;
    /// assert!(dead.check_reads_inputs().unwrap_err().to_string().contains("normal cell"));
    /// # Ok::<(), tnd_nas::space::SpaceError>(())
    /// ```
    ///
    /// # Errors
    /// [`crate::space::SpaceError::InvalidConfig`] naming the cell.
    pub fn check_reads_inputs(&self) -> Result<(), crate::space::SpaceError> {
        for (name, cell) in [("normal", &self.normal), ("reduction", &self.reduce)] {
            if !cell.reads_inputs() {
                return Err(crate::space::SpaceError::InvalidConfig(format!(
                    "the {name} cell reads none of its inputs (every node of its concat is \
                     empty or fed only by empty nodes): its output would be zeros for every \
                     image"
                )));
            }
        }
        Ok(())
    }
}

/// A DARTS-space genotype: a normal and a reduction cell.
///
/// Prints and parses the DARTS notation (`Genotype(normal=[('sep_conv_3x3', 0), ...],
/// normal_concat=[2, 3, 4, 5], reduce=[...], reduce_concat=[...])`, two inputs per node)
/// and the end-to-end TND notation (one list of inputs per node, any in-degree).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Genotype {
    /// The normal cell.
    pub normal: CellGenotype,
    /// The reduction cell.
    pub reduce: CellGenotype,
}
