//! The supernet: stem, search cells, classifier.

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Tensor, backend::Backend};

use super::SuperNetError;
use super::cell::{DartsCellSpec, DartsSearchCell, Nb201SearchCell, ResidualBlock};
use super::path::Path;
use crate::OpKind;
use crate::ops::{BatchNorm2d, BatchNorm2dConfig, ConvSpec};
use crate::space::{DartsSpace, Nb201Space, SearchSpace};

/// Configuration of a [`DartsSuperNet`]: a DARTS-space supernet, reductions at 1/3 and
/// 2/3 of the depth.
///
/// ```
/// use tnd_nas::space::DartsSpaceConfig;
/// use tnd_nas::supernet::DartsSuperNetConfig;
/// use tnd_nas::ops::trainable_params;
/// use burn::backend::NdArray;
///
/// let space = DartsSpaceConfig::darts().init()?;
/// let net = DartsSuperNetConfig::full(&space, 16, 8, 10).init::<NdArray>(&Default::default())?;
/// assert_eq!(trainable_params(&net), 1_930_618);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Config, Debug)]
pub struct DartsSuperNetConfig {
    /// Intermediate nodes per cell.
    pub nodes: usize,
    /// Initial channels `C`.
    pub channels: usize,
    /// Number of cells.
    pub cells: usize,
    /// Number of classes.
    pub classes: usize,
    /// The active ops of every edge of the space, in space edge order (normal-cell edges,
    /// then reduction-cell edges).
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

/// Configuration of an [`Nb201SuperNet`]: three stages of `cells` search cells joined by
/// residual blocks.
#[derive(Config, Debug)]
pub struct Nb201SuperNetConfig {
    /// Channels of the first stage.
    pub channels: usize,
    /// Cells per stage.
    pub cells: usize,
    /// Number of classes.
    pub classes: usize,
    /// The active ops of the six edges.
    pub active: Vec<Vec<OpKind>>,
    /// Image channels.
    #[config(default = 3)]
    pub in_channels: usize,
    /// Dropout on `skip_connect` outputs; 0 disables it.
    #[config(default = 0.0)]
    pub skip_dropout: f64,
}

/// The checks both cell supernets share.
fn check_shape(
    sizes: &[(&str, usize)],
    active: &[Vec<OpKind>],
    edges: usize,
    skip_dropout: f64,
) -> Result<(), SuperNetError> {
    let bad = |m: String| Err(SuperNetError::InvalidConfig(m));
    if let Some((name, _)) = sizes.iter().find(|(_, v)| *v == 0) {
        return bad(format!("{name} must be positive"));
    }
    if active.len() != edges {
        return bad(format!(
            "{} active-op lists for {edges} edges",
            active.len()
        ));
    }
    if let Some(e) = active.iter().position(Vec::is_empty) {
        return bad(format!("edge {e} has no active op"));
    }
    if let Some(op) = active
        .iter()
        .flatten()
        .find(|op| op.is_mbconv() || op.is_user())
    {
        return bad(format!(
            "op `{op}` cannot be built in a cell supernet (MBConv blocks and user ops are built by their own spaces)"
        ));
    }
    if !(0.0..1.0).contains(&skip_dropout) {
        return bad(format!("skip_dropout {skip_dropout} is not in [0, 1)"));
    }
    Ok(())
}

impl DartsSuperNetConfig {
    /// A supernet over all candidate ops of `space`.
    pub fn full(space: &DartsSpace, channels: usize, cells: usize, classes: usize) -> Self {
        Self::new(
            space.nodes(),
            channels,
            cells,
            classes,
            space.all_candidates(),
        )
    }

    /// Checks the configuration.
    ///
    /// # Errors
    /// [`SuperNetError::InvalidConfig`] naming the offending value.
    pub fn validate(&self) -> Result<(), SuperNetError> {
        let n = self.nodes;
        check_shape(
            &[
                ("nodes", n),
                ("channels", self.channels),
                ("cells", self.cells),
                ("classes", self.classes),
                ("in_channels", self.in_channels),
                ("stem_multiplier", self.stem_multiplier),
            ],
            &self.active,
            2 * (n * (n + 3) / 2),
            self.skip_dropout,
        )
    }

    /// Builds the supernet.
    ///
    /// # Errors
    /// Whatever [`DartsSuperNetConfig::validate`] reports.
    pub fn init<B: Backend>(&self, device: &B::Device) -> Result<DartsSuperNet<B>, SuperNetError> {
        self.validate()?;
        Ok(self.init_darts(self.nodes, device))
    }
}

impl Nb201SuperNetConfig {
    /// A supernet over all candidate ops of `space`.
    pub fn full(space: &Nb201Space, channels: usize, cells: usize, classes: usize) -> Self {
        Self::new(channels, cells, classes, space.all_candidates())
    }

    /// Checks the configuration.
    ///
    /// # Errors
    /// [`SuperNetError::InvalidConfig`] naming the offending value.
    pub fn validate(&self) -> Result<(), SuperNetError> {
        check_shape(
            &[
                ("channels", self.channels),
                ("cells", self.cells),
                ("classes", self.classes),
                ("in_channels", self.in_channels),
            ],
            &self.active,
            6,
            self.skip_dropout,
        )
    }

    /// Builds the supernet.
    ///
    /// # Errors
    /// Whatever [`Nb201SuperNetConfig::validate`] reports.
    pub fn init<B: Backend>(&self, device: &B::Device) -> Result<Nb201SuperNet<B>, SuperNetError> {
        self.validate()?;
        Ok(self.init_nb201(device))
    }
}

impl DartsSuperNetConfig {
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
}

impl Nb201SuperNetConfig {
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

/// A supernet a search trains: classifies a batch along a [`Path`] through its mixed ops.
/// [`DartsSuperNet`], [`Nb201SuperNet`] and [`super::MbConvSuperNet`] implement it; so does
/// the supernet of a space of your own ([`crate::scoring::SupernetSpace`]).
///
/// # Shapes
/// - input `[n, in_channels, h, w]`, output logits `[n, classes]`
pub trait SupernetForward<B: Backend> {
    /// Number of edges a [`Path`] must cover (the space's edges).
    fn num_edges(&self) -> usize;

    /// The active ops of every edge.
    fn active_ops(&self) -> Vec<Vec<OpKind>>;

    /// Classifies a batch along `path`.
    ///
    /// # Errors
    /// [`SuperNetError::PathMismatch`] if the path does not fit the edges.
    fn forward_path(&self, x: Tensor<B, 4>, path: &Path) -> Result<Tensor<B, 2>, SuperNetError>;
}

/// Checks that `path` covers the `edges` of a supernet.
///
/// # Errors
/// [`SuperNetError::PathMismatch`] naming both lengths.
pub fn check_path(path: &Path, edges: usize) -> Result<(), SuperNetError> {
    if path.len() != edges {
        return Err(SuperNetError::PathMismatch(format!(
            "path covers {} edges, the supernet has {edges}",
            path.len()
        )));
    }
    Ok(())
}

/// Global average pool of `[n, c, h, w]` features to `[n, c]`.
fn global_pool<B: Backend>(features: Tensor<B, 4>) -> Tensor<B, 2> {
    features.mean_dim(3).mean_dim(2).flatten::<2>(1, 3)
}

impl<B: Backend> SupernetForward<B> for DartsSuperNet<B> {
    fn num_edges(&self) -> usize {
        2 * self.edges_per_cell
    }

    /// Taken from the first cell of each type.
    fn active_ops(&self) -> Vec<Vec<OpKind>> {
        let kinds = |reduction: bool| -> Vec<Vec<OpKind>> {
            self.cells
                .iter()
                .find(|c| c.reduction == reduction)
                .map(|c| c.edges.iter().map(|m| m.kinds().to_vec()).collect())
                .unwrap_or_default()
        };
        let mut all = kinds(false);
        all.extend(kinds(true));
        all
    }

    fn forward_path(&self, x: Tensor<B, 4>, path: &Path) -> Result<Tensor<B, 2>, SuperNetError> {
        check_path(path, self.num_edges())?;
        let s = self.stem_bn.forward(self.stem.forward(x));
        let (mut s0, mut s1) = (s.clone(), s);
        for cell in &self.cells {
            let offset = if cell.reduction {
                self.edges_per_cell
            } else {
                0
            };
            let out = cell.forward(s0, s1.clone(), path, offset)?;
            (s0, s1) = (s1, out);
        }
        Ok(self.classifier.forward(global_pool(s1)))
    }
}

impl<B: Backend> SupernetForward<B> for Nb201SuperNet<B> {
    fn num_edges(&self) -> usize {
        6
    }

    /// Taken from the first cell.
    fn active_ops(&self) -> Vec<Vec<OpKind>> {
        self.blocks
            .iter()
            .find_map(|b| match b {
                Nb201Block::Cell(c) => Some(c.edges.iter().map(|m| m.kinds().to_vec()).collect()),
                Nb201Block::Residual(_) => None,
            })
            .unwrap_or_default()
    }

    fn forward_path(&self, x: Tensor<B, 4>, path: &Path) -> Result<Tensor<B, 2>, SuperNetError> {
        check_path(path, 6)?;
        let mut x = self.stem_bn.forward(self.stem.forward(x));
        for block in &self.blocks {
            x = match block {
                Nb201Block::Cell(c) => c.forward(x, path)?,
                Nb201Block::Residual(r) => r.forward(x),
            };
        }
        let features = burn::tensor::activation::relu(self.last_bn.forward(x));
        Ok(self.classifier.forward(global_pool(features)))
    }
}
