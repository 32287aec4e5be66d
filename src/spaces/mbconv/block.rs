//! The MBConv inverted residual block (MobileNetV2).

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::tensor::{Tensor, backend::Backend};
use serde::{Deserialize, Serialize};

use crate::ops::{BatchNorm2d, BatchNorm2dConfig, ConvSpec, OpKind, conv2d};

/// Configuration of an [`MbConvBlock`]: 1x1 expansion to `c_in * expansion` channels +
/// BN + ReLU6 (absent at expansion 1), depthwise `kernel x kernel` at `stride` + BN +
/// ReLU6, 1x1 projection to `c_out` + BN; an identity shortcut when `stride` is 1 and
/// `c_in == c_out`. Convolutions have no bias; BNs are affine.
///
/// ```
/// use tnd_nas::spaces::mbconv::MbConvBlockConfig;
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// // MobileNetV2's second block: 16 -> 24, expansion 6, 3x3, stride 2.
/// let cfg = MbConvBlockConfig::new(16, 24, 6, 3, 2);
/// assert_eq!(cfg.param_count(), 16 * 96 + 2 * 96 + 96 * 9 + 2 * 96 + 96 * 24 + 2 * 24);
/// let block = cfg.init::<NdArray>(&Default::default());
/// assert_eq!(block.forward(Tensor::zeros([1, 16, 15, 15], &Default::default())).dims(), [1, 24, 8, 8]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MbConvBlockConfig {
    /// Input channels.
    pub c_in: usize,
    /// Output channels.
    pub c_out: usize,
    /// Expansion ratio of the hidden width.
    pub expansion: usize,
    /// Depthwise kernel size (odd).
    pub kernel: usize,
    /// Depthwise stride (1 or 2).
    pub stride: usize,
    /// Weight-sharing supernet BNs: no affine parameters, batch statistics always (as in
    /// DARTS supernets), instead of affine BNs with running statistics.
    #[serde(default = "mb_conv_block_config_batch_stats")]
    pub batch_stats: bool,
}

impl MbConvBlockConfig {
    /// The configuration of the required fields; every other field takes its default.
    pub fn new(c_in: usize, c_out: usize, expansion: usize, kernel: usize, stride: usize) -> Self {
        Self {
            c_in,
            c_out,
            expansion,
            kernel,
            stride,
            batch_stats: mb_conv_block_config_batch_stats(),
        }
    }

    crate::setters! {
        /// Sets [`batch_stats`](Self::batch_stats) (default false).
        with_batch_stats => batch_stats: bool;
    }
}

fn mb_conv_block_config_batch_stats() -> bool {
    false
}

impl MbConvBlockConfig {
    /// The block of MBConv op `op` (`e6_k3` ...) from `c_in` to `c_out` at `stride`;
    /// `None` for any other op (`skip_connect` in an MBConv chain is the identity).
    pub fn for_choice(op: OpKind, c_in: usize, c_out: usize, stride: usize) -> Option<Self> {
        op.mbconv()
            .map(|(expansion, kernel)| Self::new(c_in, c_out, expansion, kernel, stride))
    }

    fn hidden(&self) -> usize {
        self.c_in * self.expansion
    }

    /// The expansion (if any), depthwise and projection convolutions.
    fn specs(&self) -> (Option<ConvSpec>, ConvSpec, ConvSpec) {
        let h = self.hidden();
        let k = self.kernel;
        (
            (self.expansion != 1).then(|| ConvSpec::square(self.c_in, h, 1, 1, 0)),
            ConvSpec::square(h, h, k, self.stride, k / 2).depthwise(),
            ConvSpec::square(h, self.c_out, 1, 1, 0),
        )
    }

    /// Whether the block adds its input to its output.
    pub fn residual(&self) -> bool {
        self.stride == 1 && self.c_in == self.c_out
    }

    /// Trainable parameters (convolutions and BN scale/shift).
    pub fn param_count(&self) -> u64 {
        let (e, d, p) = self.specs();
        let bn = |c: usize| bn_for(c, self.batch_stats).param_count();
        e.map_or(0, |e| e.params() + bn(e.c_out))
            + d.params()
            + bn(d.c_out)
            + p.params()
            + bn(p.c_out)
    }

    /// Multiply-accumulates of the convolutions on a `side x side` input, and the output
    /// side.
    pub fn macs(&self, side: usize) -> (u64, usize) {
        let (e, d, p) = self.specs();
        let mut total = 0;
        let (mut h, mut w) = (side, side);
        for spec in e.iter().chain([&d, &p]) {
            let (m, oh, ow) = spec.macs(h, w);
            total += m;
            (h, w) = (oh, ow);
        }
        (total, h)
    }

    fn bn<B: Backend>(&self, c: usize, device: &B::Device) -> BatchNorm2d<B> {
        bn_for(c, self.batch_stats).init(device)
    }

    /// Builds the block.
    pub fn init<B: Backend>(&self, device: &B::Device) -> MbConvBlock<B> {
        let (e, d, p) = self.specs();
        MbConvBlock {
            expand: e.map(|e| e.init(device)),
            expand_bn: e.map(|e| self.bn(e.c_out, device)),
            depthwise: d.init(device),
            depthwise_bn: self.bn(d.c_out, device),
            project: p.init(device),
            project_bn: self.bn(p.c_out, device),
            residual: self.residual(),
        }
    }
}

/// The BN of an MBConv layer: affine with running statistics, or (supernets) neither.
pub(crate) fn bn_for(c: usize, batch_stats: bool) -> BatchNorm2dConfig {
    if batch_stats {
        BatchNorm2dConfig::cell(c, false)
    } else {
        BatchNorm2dConfig::new(c)
    }
}

pub(crate) use crate::ops::relu6;

/// An MBConv inverted residual block (see [`MbConvBlockConfig`]).
///
/// # Shapes
/// - input `[n, c_in, h, w]`, output `[n, c_out, ceil(h / stride), ceil(w / stride)]`
#[derive(Module, Debug)]
pub struct MbConvBlock<B: Backend> {
    /// 1x1 expansion (absent at expansion 1).
    pub expand: Option<Conv2d<B>>,
    /// Its BN.
    pub expand_bn: Option<BatchNorm2d<B>>,
    /// Depthwise convolution.
    pub depthwise: Conv2d<B>,
    /// Its BN.
    pub depthwise_bn: BatchNorm2d<B>,
    /// 1x1 projection.
    pub project: Conv2d<B>,
    /// Its BN.
    pub project_bn: BatchNorm2d<B>,
    residual: bool,
}

impl<B: Backend> MbConvBlock<B> {
    /// Runs the block.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let mut h = x.clone();
        if let (Some(conv), Some(bn)) = (&self.expand, &self.expand_bn) {
            h = relu6(bn.forward(conv2d(conv, h)));
        }
        h = relu6(self.depthwise_bn.forward(conv2d(&self.depthwise, h)));
        let out = self.project_bn.forward(conv2d(&self.project, h));
        if self.residual { out + x } else { out }
    }
}
