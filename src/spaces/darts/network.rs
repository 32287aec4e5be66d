//! The DARTS evaluation network built from a genotype.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::pool::{AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig, AvgPool2d, AvgPool2dConfig};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Distribution, Tensor, backend::Backend};

use super::network_config::{AUX_FEATURES, AUX_HIDDEN, CellPlan, EvalNetworkConfig, edge_op};
use super::{DartsSpace, Preprocess};
use crate::Architecture;
use crate::network::{BuildNetwork, EvalNetworkSpec, ImageClassifier, NetworkError};
use crate::ops::{BatchNorm2d, BatchNorm2dConfig, ConvSpec, Op, ReluConvBn};
use crate::space::{CellGenotype, Genotype, SpaceError};

/// One evaluation cell: any number of inputs per node, output the concat list.
///
/// # Shapes
/// - inputs `[n, c_pp, ., .]`, `[n, c_p, h, w]`; output `[n, |concat| * C, h/s, w/s]`
#[derive(Module, Debug)]
pub struct EvalCell<B: Backend> {
    /// Preprocessing of the input from two cells back.
    pub pre0: Preprocess<B>,
    /// Preprocessing of the input from the previous cell.
    pub pre1: ReluConvBn<B>,
    /// `ops[i]` are the ops into intermediate node `i`.
    pub ops: Vec<Vec<Op<B>>>,
    /// `inputs[i]` are the source nodes of those ops.
    pub inputs: Vec<Vec<usize>>,
    /// Concatenated nodes.
    pub concat: Vec<usize>,
    /// Whether the cell reduces the resolution.
    pub reduction: bool,
}

impl<B: Backend> EvalCell<B> {
    fn new(cell: &CellGenotype, p: &CellPlan, device: &B::Device) -> Self {
        Self {
            pre0: Preprocess::new(p.c_pp, p.c, p.reduction_prev, true, device),
            pre1: ReluConvBn::new(&[ConvSpec::square(p.c_p, p.c, 1, 1, 0)], true, device),
            ops: cell
                .nodes
                .iter()
                .map(|n| n.iter().map(|e| edge_op(p, e).init(device)).collect())
                .collect(),
            inputs: cell
                .nodes
                .iter()
                .map(|n| n.iter().map(|e| e.from).collect())
                .collect(),
            concat: cell.concat.clone(),
            reduction: p.reduction,
        }
    }

    fn forward(&self, s0: Tensor<B, 4>, s1: Tensor<B, 4>, drop_prob: f64) -> Tensor<B, 4> {
        let s1 = self.pre1.forward(s1);
        let [n, c, h, w] = s1.dims();
        let (h, w) = if self.reduction {
            (h.div_ceil(2), w.div_ceil(2))
        } else {
            (h, w)
        };
        let mut states = vec![self.pre0.forward(s0), s1];
        for (ops, inputs) in self.ops.iter().zip(&self.inputs) {
            let mut sum: Option<Tensor<B, 4>> = None;
            for (op, &from) in ops.iter().zip(inputs) {
                let mut y = op.forward(states[from].clone());
                if drop_prob > 0.0 && !op.is_identity() {
                    y = drop_path(y, drop_prob);
                }
                sum = Some(match sum {
                    Some(s) => s.add(y),
                    None => y,
                });
            }
            let device = states[1].device();
            states.push(sum.unwrap_or_else(|| Tensor::zeros([n, c, h, w], &device)));
        }
        Tensor::cat(self.concat.iter().map(|&i| states[i].clone()).collect(), 1)
    }
}

/// Zeroes whole samples with probability `p` and rescales the rest by `1 / (1 - p)`.
pub(crate) fn drop_path<B: Backend>(x: Tensor<B, 4>, p: f64) -> Tensor<B, 4> {
    let n = x.dims()[0];
    let mask = Tensor::<B, 4>::random([n, 1, 1, 1], Distribution::Bernoulli(1.0 - p), &x.device());
    x.mul(mask).div_scalar(1.0 - p)
}

/// The DARTS auxiliary head: ReLU, AvgPool 5x5/3, Conv1x1-BN-ReLU, Conv2x2-BN-ReLU, Linear.
///
/// On feature maps other than 8x8 the 5x5/3 pool is replaced by adaptive average
/// pooling to 2x2, so that the head works for any input size.
#[derive(Module, Debug)]
pub struct AuxiliaryHead<B: Backend> {
    /// Pool for 8x8 maps.
    pub pool: AvgPool2d,
    /// Pool for other sizes.
    pub adaptive: AdaptiveAvgPool2d,
    /// 1x1 conv.
    pub conv1: Conv2d<B>,
    /// BN after it.
    pub bn1: BatchNorm2d<B>,
    /// 2x2 conv.
    pub conv2: Conv2d<B>,
    /// BN after it.
    pub bn2: BatchNorm2d<B>,
    /// Classifier.
    pub classifier: Linear<B>,
}

impl<B: Backend> AuxiliaryHead<B> {
    fn new(c: usize, classes: usize, device: &B::Device) -> Self {
        Self {
            pool: AvgPool2dConfig::new([5, 5])
                .with_strides([3, 3])
                .with_count_include_pad(false)
                .init(),
            adaptive: AdaptiveAvgPool2dConfig::new([2, 2]).init(),
            conv1: ConvSpec::square(c, AUX_HIDDEN, 1, 1, 0).init(device),
            bn1: BatchNorm2dConfig::new(AUX_HIDDEN).init(device),
            conv2: ConvSpec::square(AUX_HIDDEN, AUX_FEATURES, 2, 1, 0).init(device),
            bn2: BatchNorm2dConfig::new(AUX_FEATURES).init(device),
            classifier: LinearConfig::new(AUX_FEATURES, classes).init(device),
        }
    }

    /// Auxiliary logits `[n, classes]`.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        use burn::tensor::activation::relu;
        let [_, _, h, w] = x.dims();
        let x = relu(x);
        let x = if h == 8 && w == 8 {
            self.pool.forward(x)
        } else {
            self.adaptive.forward(x)
        };
        let x = relu(self.bn1.forward(self.conv1.forward(x)));
        let x = relu(self.bn2.forward(self.conv2.forward(x)));
        self.classifier.forward(x.flatten::<2>(1, 3))
    }
}

/// The DARTS evaluation network (`NetworkCIFAR`): stem, `layers` cells from the genotype
/// with reductions at 1/3 and 2/3, global average pool, linear classifier, optional
/// auxiliary head at 2/3 depth and drop-path.
///
/// # Shapes
/// - input `[n, in_channels, h, w]`, output logits `[n, classes]`
#[derive(Module, Debug)]
pub struct EvalNetwork<B: Backend> {
    /// Stem conv.
    pub stem: Conv2d<B>,
    /// Stem BN.
    pub stem_bn: BatchNorm2d<B>,
    /// Cells.
    pub cells: Vec<EvalCell<B>>,
    /// Auxiliary head.
    pub aux: Option<AuxiliaryHead<B>>,
    /// Index of the cell the auxiliary head follows.
    pub aux_after: usize,
    /// Classifier.
    pub classifier: Linear<B>,
}

impl EvalNetworkConfig {
    /// Builds the network.
    ///
    /// # Errors
    /// [`NetworkError`] for an invalid configuration or genotype.
    pub fn init<B: Backend>(
        &self,
        genotype: &Genotype,
        device: &B::Device,
    ) -> Result<EvalNetwork<B>, NetworkError> {
        self.validate(genotype)?;
        let c_stem = self.stem_multiplier * self.channels;
        let (plans, c_aux, c_last) = self.plan(genotype);
        Ok(EvalNetwork {
            stem: ConvSpec::square(self.in_channels, c_stem, 3, 1, 1).init(device),
            stem_bn: BatchNorm2dConfig::new(c_stem).init(device),
            cells: plans
                .iter()
                .map(|p| {
                    EvalCell::new(
                        if p.reduction {
                            &genotype.reduce
                        } else {
                            &genotype.normal
                        },
                        p,
                        device,
                    )
                })
                .collect(),
            aux: self
                .auxiliary
                .then(|| AuxiliaryHead::new(c_aux, self.classes, device)),
            aux_after: 2 * self.layers / 3,
            classifier: LinearConfig::new(c_last, self.classes).init(device),
        })
    }
}

impl<B: Backend> EvalNetwork<B> {
    /// Inference forward pass (no drop-path, no auxiliary output).
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        self.forward_train(x, 0.0).0
    }

    /// Training forward pass with drop-path probability `drop_prob`; also returns the
    /// auxiliary logits when the network has an auxiliary head.
    pub fn forward_train(
        &self,
        x: Tensor<B, 4>,
        drop_prob: f64,
    ) -> (Tensor<B, 2>, Option<Tensor<B, 2>>) {
        let s = self.stem_bn.forward(crate::kernels::conv2d(&self.stem, x));
        let (mut s0, mut s1) = (s.clone(), s);
        let mut aux = None;
        for (i, cell) in self.cells.iter().enumerate() {
            let out = cell.forward(s0, s1.clone(), drop_prob);
            [s0, s1] = crate::ops::renormalize([s1, out]);
            if i == self.aux_after {
                aux = self.aux.as_ref().map(|h| h.forward(s1.clone()));
            }
        }
        let pooled = s1.mean_dim(3).mean_dim(2).flatten::<2>(1, 3);
        (crate::ops::linear(&self.classifier, pooled), aux)
    }
}

/// The DARTS `NetworkCIFAR` of architectures of a DARTS space (the space turns an
/// architecture into a genotype, the config builds it).
#[derive(Debug, Clone)]
pub struct DartsNetworkSpec {
    /// The space the architectures come from.
    pub space: DartsSpace,
    /// The network built from the genotype.
    pub network: EvalNetworkConfig,
}

impl DartsNetworkSpec {
    /// The network `network` of architectures of `space`.
    pub fn new(space: DartsSpace, network: EvalNetworkConfig) -> Self {
        Self { space, network }
    }
}

impl EvalNetworkSpec for DartsNetworkSpec {
    fn param_count(&self, arch: &Architecture) -> Result<u64, SpaceError> {
        Ok(self.network.param_count(&self.space.genotype(arch)?))
    }
    fn macs(&self, arch: &Architecture, input: usize) -> Result<u64, SpaceError> {
        Ok(self.network.macs(&self.space.genotype(arch)?, input))
    }
    fn in_channels(&self) -> usize {
        self.network.in_channels
    }
}

impl BuildNetwork for DartsNetworkSpec {
    type Network<B: Backend> = EvalNetwork<B>;
    fn build<B: Backend>(
        &self,
        arch: &Architecture,
        device: &B::Device,
    ) -> Result<EvalNetwork<B>, NetworkError> {
        self.network.init(&self.space.genotype(arch)?, device)
    }
}

impl<B: Backend> ImageClassifier<B> for EvalNetwork<B> {
    fn classify(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        self.forward(x)
    }
    fn classify_train(
        &self,
        x: Tensor<B, 4>,
        drop_prob: f64,
    ) -> (Tensor<B, 2>, Option<Tensor<B, 2>>) {
        self.forward_train(x, drop_prob)
    }
}
