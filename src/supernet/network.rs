//! The supernet: stem, search cells, classifier.

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Tensor, backend::Backend};
use serde::{Deserialize, Serialize};

use super::SuperNetError;
use super::cell::{DartsCellSpec, DartsSearchCell, Nb201SearchCell, ResidualBlock};
use super::path::Path;
use crate::OpKind;
use crate::ops::{BatchNorm2d, BatchNorm2dConfig, ConvSpec};
use crate::space::{DartsSpace, Nb201Space, SearchSpace};

/// Which cell structure the supernet is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SuperNetKind {
    /// DARTS cells: reductions at 1/3 and 2/3 of the depth, `nodes` intermediate nodes.
    Darts {
        /// Intermediate nodes per cell.
        nodes: usize,
    },
    /// NAS-Bench-201: three stages of `cells` cells joined by residual blocks.
    Nb201,
}

/// Configuration of a [`SuperNet`].
///
/// ```
/// use tnd_nas::space::DartsSpaceConfig;
/// use tnd_nas::supernet::SuperNetConfig;
/// use tnd_nas::ops::trainable_params;
/// use burn::backend::NdArray;
///
/// let space = DartsSpaceConfig::darts().init()?;
/// let net = SuperNetConfig::darts(&space, 16, 8, 10).init::<NdArray>(&Default::default())?;
/// assert_eq!(trainable_params(&net), 1_930_618);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Config, Debug)]
pub struct SuperNetConfig {
    /// Cell structure.
    pub kind: SuperNetKind,
    /// Initial channels `C`.
    pub channels: usize,
    /// DARTS: number of cells; NAS-Bench-201: cells per stage.
    pub cells: usize,
    /// Number of classes.
    pub classes: usize,
    /// The active ops of every edge of the space, in space edge order.
    pub active: Vec<Vec<OpKind>>,
    /// Image channels (3 for CIFAR, 1 for Fashion-MNIST).
    #[config(default = 3)]
    pub in_channels: usize,
    /// DARTS stem multiplier (the stem outputs `stem_multiplier * C` channels).
    #[config(default = 3)]
    pub stem_multiplier: usize,
    /// Dropout on `skip_connect` outputs (P-DARTS); 0 disables it.
    #[config(default = 0.0)]
    pub skip_dropout: f64,
}

impl SuperNetConfig {
    /// A DARTS-space supernet over all candidate ops of `space`.
    pub fn darts(space: &DartsSpace, channels: usize, cells: usize, classes: usize) -> Self {
        Self::new(
            SuperNetKind::Darts {
                nodes: space.nodes(),
            },
            channels,
            cells,
            classes,
            space.all_candidates(),
        )
    }

    /// A NAS-Bench-201 supernet over all candidate ops.
    pub fn nb201(space: &Nb201Space, channels: usize, cells: usize, classes: usize) -> Self {
        Self::new(
            SuperNetKind::Nb201,
            channels,
            cells,
            classes,
            space.all_candidates(),
        )
    }

    fn edges_expected(&self) -> usize {
        match self.kind {
            SuperNetKind::Darts { nodes } => 2 * (nodes * (nodes + 3) / 2),
            SuperNetKind::Nb201 => 6,
        }
    }

    /// Checks the configuration.
    ///
    /// # Errors
    /// [`SuperNetError::InvalidConfig`] naming the offending value.
    pub fn validate(&self) -> Result<(), SuperNetError> {
        let bad = |m: String| Err(SuperNetError::InvalidConfig(m));
        if self.channels == 0 || self.cells == 0 || self.classes == 0 || self.in_channels == 0 {
            return bad(format!(
                "channels ({}), cells ({}), classes ({}) and in_channels ({}) must be positive",
                self.channels, self.cells, self.classes, self.in_channels
            ));
        }
        if let SuperNetKind::Darts { nodes: 0 } = self.kind {
            return bad("a DARTS supernet needs at least one node".into());
        }
        if self.active.len() != self.edges_expected() {
            return bad(format!(
                "{} active-op lists for {} edges",
                self.active.len(),
                self.edges_expected()
            ));
        }
        if let Some(e) = self.active.iter().position(Vec::is_empty) {
            return bad(format!("edge {e} has no active op"));
        }
        if !(0.0..1.0).contains(&self.skip_dropout) {
            return bad(format!(
                "skip_dropout {} is not in [0, 1)",
                self.skip_dropout
            ));
        }
        Ok(())
    }

    /// Builds the supernet.
    ///
    /// # Errors
    /// Whatever [`SuperNetConfig::validate`] reports.
    pub fn init<B: Backend>(&self, device: &B::Device) -> Result<SuperNet<B>, SuperNetError> {
        self.validate()?;
        Ok(match self.kind {
            SuperNetKind::Darts { nodes } => SuperNet::Darts(self.init_darts(nodes, device)),
            SuperNetKind::Nb201 => SuperNet::Nb201(self.init_nb201(device)),
        })
    }

    fn init_darts<B: Backend>(&self, nodes: usize, device: &B::Device) -> DartsSuperNet<B> {
        let c = self.channels;
        let c_stem = self.stem_multiplier * c;
        let stem = ConvSpec::square(self.in_channels, c_stem, 3, 1, 1);
        let per_cell = self.active.len() / 2;
        let (mut c_pp, mut c_p, mut c_cur) = (c_stem, c_stem, c);
        let mut reduction_prev = false;
        let mut cells = Vec::new();
        for i in 0..self.cells {
            let reduction = is_reduction(i, self.cells);
            if reduction {
                c_cur *= 2;
            }
            let active = if reduction {
                &self.active[per_cell..]
            } else {
                &self.active[..per_cell]
            };
            cells.push(DartsSearchCell::new(
                &DartsCellSpec {
                    c_pp,
                    c_p,
                    c: c_cur,
                    reduction,
                    reduction_prev,
                    nodes,
                    active,
                    skip_dropout: self.skip_dropout,
                },
                device,
            ));
            reduction_prev = reduction;
            (c_pp, c_p) = (c_p, nodes * c_cur);
        }
        DartsSuperNet {
            stem: stem.init(device),
            stem_bn: BatchNorm2dConfig::new(c_stem).init(device),
            cells,
            classifier: LinearConfig::new(c_p, self.classes).init(device),
            edges_per_cell: per_cell,
        }
    }

    fn init_nb201<B: Backend>(&self, device: &B::Device) -> Nb201SuperNet<B> {
        let c = self.channels;
        let mut blocks = Vec::new();
        let mut c_cur = c;
        for stage in 0..3 {
            if stage > 0 {
                blocks.push(Nb201Block::Residual(ResidualBlock::new(
                    c_cur,
                    2 * c_cur,
                    device,
                )));
                c_cur *= 2;
            }
            for _ in 0..self.cells {
                blocks.push(Nb201Block::Cell(Nb201SearchCell::new(
                    c_cur,
                    &self.active,
                    self.skip_dropout,
                    device,
                )));
            }
        }
        Nb201SuperNet {
            stem: ConvSpec::square(self.in_channels, c, 3, 1, 1).init(device),
            stem_bn: BatchNorm2dConfig::new(c).init(device),
            blocks,
            last_bn: BatchNorm2dConfig::new(c_cur).init(device),
            classifier: LinearConfig::new(c_cur, self.classes).init(device),
        }
    }
}

/// DARTS places reduction cells at `cells / 3` and `2 * cells / 3`.
pub(crate) fn is_reduction(i: usize, cells: usize) -> bool {
    i == cells / 3 || i == 2 * cells / 3
}

/// A DARTS supernet.
#[derive(Module, Debug)]
pub struct DartsSuperNet<B: Backend> {
    /// Stem convolution.
    pub stem: Conv2d<B>,
    /// Stem BN (affine).
    pub stem_bn: BatchNorm2d<B>,
    /// The cells.
    pub cells: Vec<DartsSearchCell<B>>,
    /// Classifier.
    pub classifier: Linear<B>,
    edges_per_cell: usize,
}

/// One block of a NAS-Bench-201 supernet.
#[allow(clippy::large_enum_variant)] // built once per network; size does not matter
#[derive(Module, Debug)]
pub enum Nb201Block<B: Backend> {
    /// A search cell.
    Cell(Nb201SearchCell<B>),
    /// A residual reduction block.
    Residual(ResidualBlock<B>),
}

/// A NAS-Bench-201 supernet.
#[derive(Module, Debug)]
pub struct Nb201SuperNet<B: Backend> {
    /// Stem convolution.
    pub stem: Conv2d<B>,
    /// Stem BN.
    pub stem_bn: BatchNorm2d<B>,
    /// Cells and residual blocks.
    pub blocks: Vec<Nb201Block<B>>,
    /// Closing BN (followed by ReLU).
    pub last_bn: BatchNorm2d<B>,
    /// Classifier.
    pub classifier: Linear<B>,
}

/// A weight-sharing supernet holding every active op on every edge.
///
/// # Shapes
/// - input `[n, in_channels, h, w]`, output logits `[n, classes]`
#[allow(clippy::large_enum_variant)] // built once per network; size does not matter
#[derive(Module, Debug)]
pub enum SuperNet<B: Backend> {
    /// DARTS cells.
    Darts(DartsSuperNet<B>),
    /// NAS-Bench-201 cells.
    Nb201(Nb201SuperNet<B>),
}

impl<B: Backend> SuperNet<B> {
    /// Number of edges a [`Path`] must cover.
    pub fn num_edges(&self) -> usize {
        match self {
            SuperNet::Darts(n) => 2 * n.edges_per_cell,
            SuperNet::Nb201(_) => 6,
        }
    }

    /// The active ops of every edge (taken from the first cell of each type).
    pub fn active_ops(&self) -> Vec<Vec<OpKind>> {
        match self {
            SuperNet::Darts(n) => {
                let normal = n.cells.iter().find(|c| !c.reduction);
                let reduce = n.cells.iter().find(|c| c.reduction);
                let kinds = |c: Option<&DartsSearchCell<B>>| -> Vec<Vec<OpKind>> {
                    match c {
                        Some(c) => c.edges.iter().map(|m| m.kinds().to_vec()).collect(),
                        None => Vec::new(),
                    }
                };
                let mut all = kinds(normal);
                all.extend(kinds(reduce));
                all
            }
            SuperNet::Nb201(n) => n
                .blocks
                .iter()
                .find_map(|b| match b {
                    Nb201Block::Cell(c) => {
                        Some(c.edges.iter().map(|m| m.kinds().to_vec()).collect())
                    }
                    Nb201Block::Residual(_) => None,
                })
                .unwrap_or_default(),
        }
    }

    /// Classifies a batch along `path`.
    ///
    /// # Errors
    /// [`SuperNetError::PathMismatch`] if the path does not fit the edges.
    pub fn forward(&self, x: Tensor<B, 4>, path: &Path) -> Result<Tensor<B, 2>, SuperNetError> {
        if path.len() != self.num_edges() {
            return Err(SuperNetError::PathMismatch(format!(
                "path covers {} edges, the supernet has {}",
                path.len(),
                self.num_edges()
            )));
        }
        let features = match self {
            SuperNet::Darts(n) => {
                let s = n.stem_bn.forward(n.stem.forward(x));
                let (mut s0, mut s1) = (s.clone(), s);
                for cell in &n.cells {
                    let offset = if cell.reduction { n.edges_per_cell } else { 0 };
                    let out = cell.forward(s0, s1.clone(), path, offset)?;
                    (s0, s1) = (s1, out);
                }
                s1
            }
            SuperNet::Nb201(n) => {
                let mut x = n.stem_bn.forward(n.stem.forward(x));
                for block in &n.blocks {
                    x = match block {
                        Nb201Block::Cell(c) => c.forward(x, path)?,
                        Nb201Block::Residual(r) => r.forward(x),
                    };
                }
                burn::tensor::activation::relu(n.last_bn.forward(x))
            }
        };
        let pooled = features.mean_dim(3).mean_dim(2).flatten::<2>(1, 3);
        Ok(match self {
            SuperNet::Darts(n) => n.classifier.forward(pooled),
            SuperNet::Nb201(n) => n.classifier.forward(pooled),
        })
    }
}
