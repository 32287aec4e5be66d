//! The DARTS cell space.

use serde::{Deserialize, Serialize};

use crate::OpKind;
use crate::space::{
    Architecture, CellGenotype, Edge, Genotype, GenotypeEdge, OpSet, SearchSpace, SpaceError,
};

/// Configuration of a [`DartsSpace`].
///
/// ```
/// use tnd_nas::space::{OpSet};
/// use tnd_nas::spaces::darts::{DartsSpaceConfig};
/// use tnd_nas::SearchSpace;
/// let space = DartsSpaceConfig::tnd().init()?;
/// assert_eq!(space.edges().len(), 28);
/// let custom = DartsSpaceConfig::new(OpSet::darts(), OpSet::darts()).with_nodes(5).init()?;
/// assert_eq!(custom.edges().len(), 2 * (2 + 3 + 4 + 5 + 6));
/// # Ok::<(), tnd_nas::space::SpaceError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DartsSpaceConfig {
    /// Intermediate nodes per cell (default 4 -> 14 edges per cell).
    pub nodes: usize,
    /// Candidate ops of normal cells.
    pub normal_ops: OpSet,
    /// Candidate ops of reduction cells.
    pub reduce_ops: OpSet,
}

impl DartsSpaceConfig {
    /// A config with the given op sets and 4 intermediate nodes.
    pub fn new(normal_ops: OpSet, reduce_ops: OpSet) -> Self {
        Self {
            nodes: 4,
            normal_ops,
            reduce_ops,
        }
    }

    /// The DARTS space: 8 ops in both cell types.
    pub fn darts() -> Self {
        Self::new(OpSet::darts(), OpSet::darts())
    }

    /// The TND-NAS space: 9 normal ops, 6 reduction ops.
    pub fn tnd() -> Self {
        Self::new(OpSet::tnd_normal(), OpSet::tnd_reduce())
    }

    crate::setters! {
        /// Sets the number of intermediate nodes.
        with_nodes => nodes: usize;
    }

    /// Validates and builds the space.
    ///
    /// # Errors
    /// [`SpaceError::InvalidConfig`] for zero nodes or an op set containing
    /// NAS-Bench-201-only ops, MBConv blocks or user ops.
    pub fn init(&self) -> Result<DartsSpace, SpaceError> {
        if self.nodes == 0 {
            return Err(SpaceError::InvalidConfig(
                "a DARTS cell needs at least one intermediate node".into(),
            ));
        }
        for (cell, set) in [("normal", &self.normal_ops), ("reduce", &self.reduce_ops)] {
            if let Some(op) = set
                .ops()
                .iter()
                .find(|op| matches!(op, OpKind::NorConv1x1 | OpKind::NorConv3x3))
            {
                return Err(SpaceError::InvalidConfig(format!(
                    "`{op}` is a NAS-Bench-201 op and cannot be used in the DARTS {cell} cell (use conv_1x1 / conv_3x3)"
                )));
            }
            if let Some(op) = set.ops().iter().find(|op| op.is_mbconv() || op.is_user()) {
                return Err(SpaceError::InvalidConfig(format!(
                    "`{op}` cannot be built in a DARTS {cell} cell (MBConv blocks belong to the MBConv space, user ops to a space of your own)"
                )));
            }
        }
        let mut edges = Vec::new();
        for cell in 0..2 {
            for node in 0..self.nodes {
                for from in 0..node + 2 {
                    edges.push(Edge {
                        cell,
                        from,
                        to: node + 2,
                    });
                }
            }
        }
        Ok(DartsSpace {
            config: self.clone(),
            edges,
        })
    }
}

/// The DARTS cell space: a normal and a reduction cell, each with `nodes` intermediate
/// nodes and an edge from every earlier node (2 + 3 + ... edges per cell).
///
/// Edges are ordered normal cell first, then reduction cell; within a cell by target
/// node, then by source node, as DARTS orders its alpha rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DartsSpace {
    config: DartsSpaceConfig,
    edges: Vec<Edge>,
}

impl DartsSpace {
    /// The config the space was built from.
    pub fn config(&self) -> &DartsSpaceConfig {
        &self.config
    }

    /// Intermediate nodes per cell.
    pub fn nodes(&self) -> usize {
        self.config.nodes
    }

    /// Edges per cell.
    pub fn edges_per_cell(&self) -> usize {
        self.edges.len() / 2
    }

    /// The end-to-end genotype of an architecture: each edge keeps its op, `none` edges
    /// are dropped (a node may end up with 0 .. 2 + i inputs); every intermediate node is
    /// concatenated.
    ///
    /// # Errors
    /// Whatever [`SearchSpace::validate`] reports.
    pub fn genotype(&self, arch: &Architecture) -> Result<Genotype, SpaceError> {
        self.validate(arch)?;
        let per_cell = self.edges_per_cell();
        let cell = |offset: usize| {
            let mut nodes = vec![Vec::new(); self.config.nodes];
            for (e, edge) in self.edges[offset..offset + per_cell].iter().enumerate() {
                let op = arch.ops()[offset + e];
                if op != OpKind::None {
                    nodes[edge.to - 2].push(GenotypeEdge::new(op, edge.from));
                }
            }
            CellGenotype {
                nodes,
                concat: (2..self.config.nodes + 2).collect(),
            }
        };
        Ok(Genotype {
            normal: cell(0),
            reduce: cell(per_cell),
        })
    }

    /// DARTS-style derivation from edge weights (e.g. `softmax(alpha)` over each edge's
    /// active ops): every node keeps its two strongest incoming edges, each with its
    /// strongest op other than `none`.
    ///
    /// `active[e]` are the ops still active on edge `e` and `weights[e]` their weights.
    ///
    /// # Errors
    /// [`SpaceError::WrongLength`] if the lists do not match the edges, and
    /// [`SpaceError::InvalidConfig`] if an edge's weights do not match its ops.
    pub fn derive_top2(
        &self,
        active: &[Vec<OpKind>],
        weights: &[Vec<f64>],
    ) -> Result<Genotype, SpaceError> {
        if active.len() != self.edges.len() || weights.len() != self.edges.len() {
            return Err(SpaceError::WrongLength {
                expected: self.edges.len(),
                found: active.len().min(weights.len()),
            });
        }
        let per_cell = self.edges_per_cell();
        Ok(Genotype {
            normal: self.top2_cell(0, active, weights)?,
            reduce: self.top2_cell(per_cell, active, weights)?,
        })
    }

    fn top2_cell(
        &self,
        offset: usize,
        active: &[Vec<OpKind>],
        weights: &[Vec<f64>],
    ) -> Result<CellGenotype, SpaceError> {
        let per_cell = self.edges_per_cell();
        let mut nodes = vec![Vec::new(); self.config.nodes];
        for (node, inputs) in nodes.iter_mut().enumerate() {
            // (strength, from, op) of every incoming edge's best non-none op.
            let mut best: Vec<(f64, usize, OpKind)> = Vec::new();
            for e in offset..offset + per_cell {
                let edge = &self.edges[e];
                if edge.to != node + 2 {
                    continue;
                }
                if active[e].len() != weights[e].len() {
                    return Err(SpaceError::InvalidConfig(format!(
                        "edge {e}: {} ops but {} weights",
                        active[e].len(),
                        weights[e].len()
                    )));
                }
                let strongest = active[e]
                    .iter()
                    .zip(&weights[e])
                    .filter(|(op, _)| **op != OpKind::None)
                    .fold(None::<(f64, OpKind)>, |acc, (op, w)| match acc {
                        Some((bw, _)) if bw >= *w => acc,
                        _ => Some((*w, *op)),
                    });
                if let Some((w, op)) = strongest {
                    best.push((w, edge.from, op));
                }
            }
            best.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            let mut kept: Vec<_> = best.into_iter().take(2).collect();
            kept.sort_by_key(|k| k.1);
            inputs.extend(
                kept.into_iter()
                    .map(|(_, from, op)| GenotypeEdge::new(op, from)),
            );
        }
        Ok(CellGenotype {
            nodes,
            concat: (2..self.config.nodes + 2).collect(),
        })
    }
}

impl SearchSpace for DartsSpace {
    fn id(&self) -> String {
        let names = |set: &OpSet| {
            set.ops()
                .iter()
                .map(|o| o.name())
                .collect::<Vec<_>>()
                .join(",")
        };
        format!(
            "darts(nodes={};normal=[{}];reduce=[{}])",
            self.config.nodes,
            names(&self.config.normal_ops),
            names(&self.config.reduce_ops)
        )
    }

    fn cell_types(&self) -> Vec<String> {
        vec!["normal".into(), "reduce".into()]
    }

    fn edges(&self) -> &[Edge] {
        &self.edges
    }

    fn candidates(&self, edge: usize) -> &[OpKind] {
        match self.edges.get(edge) {
            Some(e) if e.cell == 1 => self.config.reduce_ops.ops(),
            _ => self.config.normal_ops.ops(),
        }
    }

    fn describe(&self, arch: &Architecture) -> String {
        match self.genotype(arch) {
            Ok(g) => g.to_tnd_string(),
            Err(e) => format!("<invalid architecture: {e}>"),
        }
    }

    fn finalize(&self, architecture: Architecture) -> crate::space::FinalArchitecture {
        let genotype = self.genotype(&architecture).ok();
        crate::space::FinalArchitecture {
            text: self.describe(&architecture),
            darts_text: genotype.as_ref().and_then(|g| g.to_darts_string().ok()),
            genotype,
            architecture,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edge_counts_and_order() {
        let s = DartsSpaceConfig::darts().init().unwrap();
        assert_eq!(s.edges().len(), 28);
        assert_eq!(
            s.edges()[0],
            Edge {
                cell: 0,
                from: 0,
                to: 2
            }
        );
        assert_eq!(
            s.edges()[2],
            Edge {
                cell: 0,
                from: 0,
                to: 3
            }
        );
        assert_eq!(
            s.edges()[13],
            Edge {
                cell: 0,
                from: 4,
                to: 5
            }
        );
        assert_eq!(
            s.edges()[14],
            Edge {
                cell: 1,
                from: 0,
                to: 2
            }
        );
        assert_eq!(s.num_architectures(), Some(8u128.pow(28)));
        let t = DartsSpaceConfig::tnd().init().unwrap();
        assert_eq!(t.candidates(0).len(), 9);
        assert_eq!(t.candidates(14).len(), 6);
        assert!((t.log10_size() - 14.0 * (9f64.log10() + 6f64.log10())).abs() < 1e-9);
    }

    #[test]
    fn genotype_drops_none() {
        let s = DartsSpaceConfig::darts().init().unwrap();
        let mut ops = vec![OpKind::None; 28];
        ops[0] = OpKind::SepConv3x3;
        ops[13] = OpKind::SkipConnect;
        let g = s.genotype(&Architecture::new(ops)).unwrap();
        assert_eq!(
            g.normal.nodes[0],
            vec![GenotypeEdge::new(OpKind::SepConv3x3, 0)]
        );
        assert!(g.normal.nodes[1].is_empty());
        assert_eq!(
            g.normal.nodes[3],
            vec![GenotypeEdge::new(OpKind::SkipConnect, 4)]
        );
        assert!(g.reduce.nodes.iter().all(Vec::is_empty));
    }

    #[test]
    fn top2_derivation() {
        let s = DartsSpaceConfig::darts().init().unwrap();
        let active = s.all_candidates();
        // none strongest everywhere, then sep_conv_3x3; edge weights grow with `from`.
        let weights: Vec<Vec<f64>> = s
            .edges()
            .iter()
            .map(|e| {
                let mut w = vec![0.01; 8];
                w[0] = 0.9;
                w[4] = 0.05 + 0.01 * e.from as f64;
                w
            })
            .collect();
        let g = s.derive_top2(&active, &weights).unwrap();
        for (i, node) in g.normal.nodes.iter().enumerate() {
            assert_eq!(node.len(), 2);
            assert!(node.iter().all(|e| e.op == OpKind::SepConv3x3));
            assert_eq!(node[1].from, i + 1);
        }
    }

    #[test]
    fn nb201_ops_rejected() {
        let cfg = DartsSpaceConfig::new(OpSet::nb201(), OpSet::darts());
        assert!(matches!(cfg.init(), Err(SpaceError::InvalidConfig(_))));
    }
}
