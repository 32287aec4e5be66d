//! The NAS-Bench-201 evaluation network.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Tensor, backend::Backend};
use serde::{Deserialize, Serialize};

use super::{
    Nb201Genotype, Nb201Space, ResidualBlock, nb201_cell_forward, nb201_live_edges,
    residual_param_count, residual_specs,
};
use crate::Architecture;
use crate::network::{BuildNetwork, EvalNetworkSpec, ImageClassifier, NetworkError};
use crate::ops::{BatchNorm2d, BatchNorm2dConfig, ConvSpec, Op, OpConfig};
use crate::space::SpaceError;

/// Configuration of an [`Nb201Network`]: stem, three stages of `cells` cells at C, 2C, 4C
/// joined by residual blocks, BN + ReLU, global pool, linear classifier.
///
/// ```
/// use tnd_nas::spaces::nb201::Nb201NetworkConfig;
/// use tnd_nas::spaces::nb201::Nb201Genotype;
/// let g: Nb201Genotype = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|".parse()?;
/// assert_eq!(Nb201NetworkConfig::new(16, 5, 10).param_count(&g), 802_426);
/// # Ok::<(), tnd_nas::space::SpaceError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Nb201NetworkConfig {
    /// Channels of the first stage.
    pub channels: usize,
    /// Cells per stage.
    pub cells: usize,
    /// Number of classes.
    pub classes: usize,
    /// Image channels.
    #[serde(default = "nb201_network_config_in_channels")]
    pub in_channels: usize,
}

impl Nb201NetworkConfig {
    /// The configuration of the required fields; every other field takes its default.
    pub fn new(channels: usize, cells: usize, classes: usize) -> Self {
        Self {
            channels,
            cells,
            classes,
            in_channels: nb201_network_config_in_channels(),
        }
    }

    crate::setters! {
        /// Sets [`in_channels`](Self::in_channels) (default 3).
        with_in_channels => in_channels: usize;
    }
}

fn nb201_network_config_in_channels() -> usize {
    3
}

impl Nb201NetworkConfig {
    fn check(&self) -> Result<(), NetworkError> {
        if self.channels == 0 || self.cells == 0 || self.classes == 0 || self.in_channels == 0 {
            return Err(NetworkError::InvalidConfig(format!(
                "channels ({}), cells ({}), classes ({}) and in_channels ({}) must be positive",
                self.channels, self.cells, self.classes, self.in_channels
            )));
        }
        Ok(())
    }

    /// Checks the sizes and that every op of `g` is a NAS-Bench-201 op.
    pub(crate) fn validate(&self, g: &Nb201Genotype) -> Result<(), NetworkError> {
        self.check()?;
        if let Some(op) = g
            .ops
            .iter()
            .find(|op| !crate::space::OpSet::nb201().ops().contains(op))
        {
            return Err(NetworkError::InvalidConfig(format!(
                "`{op}` is not a NAS-Bench-201 op"
            )));
        }
        Ok(())
    }

    /// Trainable parameters, computed without building tensors.
    pub fn param_count(&self, g: &Nb201Genotype) -> u64 {
        let c = self.channels;
        let mut total = ConvSpec::square(self.in_channels, c, 3, 1, 1).params() + 2 * c as u64;
        let mut c_cur = c;
        for stage in 0..3 {
            if stage > 0 {
                total += residual_param_count(c_cur, 2 * c_cur);
                c_cur *= 2;
            }
            let cell: u64 = g
                .ops
                .iter()
                .map(|&k| OpConfig::new(k, c_cur).param_count())
                .sum();
            total += self.cells as u64 * cell;
        }
        total + 2 * c_cur as u64 + (c_cur * self.classes + self.classes) as u64
    }

    /// Multiply-accumulates of one inference forward pass at input side `input`
    /// (convolutions and the classifier).
    pub fn macs(&self, g: &Nb201Genotype, input: usize) -> u64 {
        let c = self.channels;
        let (mut total, mut h, _) =
            ConvSpec::square(self.in_channels, c, 3, 1, 1).macs(input, input);
        let mut c_cur = c;
        for stage in 0..3 {
            if stage > 0 {
                let [a, b, s] = residual_specs(c_cur, 2 * c_cur);
                let (ma, oh, _) = a.macs(h, h);
                total += ma + b.macs(oh, oh).0 + s.macs(oh, oh).0;
                h = oh;
                c_cur *= 2;
            }
            let cell: u64 = g
                .ops
                .iter()
                .map(|&k| OpConfig::new(k, c_cur).macs(h, h))
                .sum();
            total += self.cells as u64 * cell;
        }
        total + (c_cur * self.classes) as u64
    }

    /// Builds the network.
    ///
    /// # Errors
    /// [`NetworkError::InvalidConfig`] for zero sizes or an op that is not a NAS-Bench-201 op.
    pub fn init<B: Backend>(
        &self,
        g: &Nb201Genotype,
        device: &B::Device,
    ) -> Result<Nb201Network<B>, NetworkError> {
        self.validate(g)?;
        let c = self.channels;
        let mut blocks = Vec::new();
        let mut c_cur = c;
        for stage in 0..3 {
            if stage > 0 {
                blocks.push(Nb201EvalBlock::Residual(ResidualBlock::new(
                    c_cur,
                    2 * c_cur,
                    device,
                )));
                c_cur *= 2;
            }
            for _ in 0..self.cells {
                blocks.push(Nb201EvalBlock::Cell(Nb201Cell {
                    ops: g
                        .ops
                        .iter()
                        .map(|&k| OpConfig::new(k, c_cur).init(device))
                        .collect(),
                }));
            }
        }
        Ok(Nb201Network {
            stem: ConvSpec::square(self.in_channels, c, 3, 1, 1).init(device),
            stem_bn: BatchNorm2dConfig::new(c).init(device),
            blocks,
            last_bn: BatchNorm2dConfig::new(c_cur).init(device),
            classifier: LinearConfig::new(c_cur, self.classes).init(device),
        })
    }
}

/// One NAS-Bench-201 cell with a fixed op per edge.
#[derive(Module, Debug)]
pub struct Nb201Cell<B: Backend> {
    /// Ops in edge order `1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2`.
    pub ops: Vec<Op<B>>,
}

impl<B: Backend> Nb201Cell<B> {
    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let zero: [bool; 6] =
            std::array::from_fn(|e| self.ops.get(e).is_none_or(|op| matches!(op, Op::Zero(_))));
        let Ok(out) = nb201_cell_forward(x, &nb201_live_edges(&zero), |e, input| {
            Ok::<_, std::convert::Infallible>(self.ops[e].forward(input))
        });
        out
    }
}

/// A block of an [`Nb201Network`].
#[allow(clippy::large_enum_variant)] // built once per network; size does not matter
#[derive(Module, Debug)]
pub enum Nb201EvalBlock<B: Backend> {
    /// A cell.
    Cell(Nb201Cell<B>),
    /// A residual reduction block.
    Residual(ResidualBlock<B>),
}

/// The NAS-Bench-201 evaluation network.
///
/// # Shapes
/// - input `[n, in_channels, h, w]`, output logits `[n, classes]`
#[derive(Module, Debug)]
pub struct Nb201Network<B: Backend> {
    /// Stem conv.
    pub stem: Conv2d<B>,
    /// Stem BN.
    pub stem_bn: BatchNorm2d<B>,
    /// Cells and residual blocks.
    pub blocks: Vec<Nb201EvalBlock<B>>,
    /// Closing BN (then ReLU).
    pub last_bn: BatchNorm2d<B>,
    /// Classifier.
    pub classifier: Linear<B>,
}

impl<B: Backend> Nb201Network<B> {
    /// Classifies a batch.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        let mut x = self.stem_bn.forward(crate::kernels::conv2d(&self.stem, x));
        for b in &self.blocks {
            x = match b {
                Nb201EvalBlock::Cell(c) => c.forward(x),
                Nb201EvalBlock::Residual(r) => r.forward(x),
            };
            [x] = crate::ops::renormalize([x]);
        }
        let x = crate::ops::relu(self.last_bn.forward(x));
        crate::ops::linear(
            &self.classifier,
            x.mean_dim(3).mean_dim(2).flatten::<2>(1, 3),
        )
    }
}

/// The NAS-Bench-201 network of NAS-Bench-201 architectures.
#[derive(Debug, Clone)]
pub struct Nb201NetworkSpec {
    /// The network built from the cell.
    pub network: Nb201NetworkConfig,
}

impl Nb201NetworkSpec {
    /// The network `network`.
    pub fn new(network: Nb201NetworkConfig) -> Self {
        Self { network }
    }
}

impl EvalNetworkSpec for Nb201NetworkSpec {
    fn param_count(&self, arch: &Architecture) -> Result<u64, SpaceError> {
        Ok(self.network.param_count(&Nb201Space::new().genotype(arch)?))
    }
    fn macs(&self, arch: &Architecture, input: usize) -> Result<u64, SpaceError> {
        Ok(self.network.macs(&Nb201Space::new().genotype(arch)?, input))
    }
    fn in_channels(&self) -> usize {
        self.network.in_channels
    }
}

impl BuildNetwork for Nb201NetworkSpec {
    type Network<B: Backend> = Nb201Network<B>;
    fn build<B: Backend>(
        &self,
        arch: &Architecture,
        device: &B::Device,
    ) -> Result<Nb201Network<B>, NetworkError> {
        self.network
            .init(&Nb201Space::new().genotype(arch)?, device)
    }
}

impl<B: Backend> ImageClassifier<B> for Nb201Network<B> {
    fn classify(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        self.forward(x)
    }
}
