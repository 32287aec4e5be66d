//! A candidate op as a config (`OpConfig`) that builds a module (`Op`).

use burn::module::Module;
use burn::nn::PaddingConfig2d;
use burn::nn::pool::{AvgPool2d, AvgPool2dConfig, MaxPool2d, MaxPool2dConfig};
use burn::tensor::{Tensor, backend::Backend};
use serde::{Deserialize, Serialize};

use super::conv::{
    ConvSpec, DwPwBn, FactorizedReduce, ReluConvBn, factorized_reduce_macs, factorized_reduce_specs,
};
use super::{BatchNorm2d, BatchNorm2dConfig, OpError, OpKind};

/// Configuration of one candidate op on a cell edge (`C` channels in and out).
///
/// ```
/// use tnd_nas::ops::OpConfig;
/// use tnd_nas::OpKind;
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
///
/// let cfg = OpConfig::new(OpKind::SepConv3x3, 8).with_stride(2);
/// assert_eq!(cfg.param_count(), 2 * (8 * 9 + 8 * 8 + 2 * 8));
/// let op = cfg.init::<NdArray>(&Default::default());
/// let y = op.forward(Tensor::zeros([2, 8, 9, 9], &Default::default()));
/// assert_eq!(y.dims(), [2, 8, 5, 5]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpConfig {
    /// Which op.
    pub kind: OpKind,
    /// Channels in and out.
    pub channels: usize,
    /// Stride (1, or 2 on reduction edges).
    #[serde(default = "op_config_stride")]
    pub stride: usize,
    /// Whether the op's BNs have affine parameters (false in the DARTS supernet).
    #[serde(default = "op_config_affine")]
    pub affine: bool,
    /// Whether pools are followed by a non-affine BN (the DARTS supernet's `MixedOp`).
    #[serde(default = "op_config_pool_bn")]
    pub pool_bn: bool,
}

impl OpConfig {
    /// The configuration of the required fields; every other field takes its default.
    pub fn new(kind: OpKind, channels: usize) -> Self {
        Self {
            kind,
            channels,
            stride: op_config_stride(),
            affine: op_config_affine(),
            pool_bn: op_config_pool_bn(),
        }
    }

    crate::setters! {
        /// Sets [`stride`](Self::stride) (default 1).
        with_stride => stride: usize;
        /// Sets [`affine`](Self::affine) (default true).
        with_affine => affine: bool;
        /// Sets [`pool_bn`](Self::pool_bn) (default false).
        with_pool_bn => pool_bn: bool;
    }
}

fn op_config_stride() -> usize {
    1
}

fn op_config_affine() -> bool {
    true
}

fn op_config_pool_bn() -> bool {
    false
}

impl OpConfig {
    fn sep_specs(&self, k: usize) -> [ConvSpec; 4] {
        let c = self.channels;
        [
            ConvSpec::square(c, c, k, self.stride, k / 2).depthwise(),
            ConvSpec::square(c, c, 1, 1, 0),
            ConvSpec::square(c, c, k, 1, k / 2).depthwise(),
            ConvSpec::square(c, c, 1, 1, 0),
        ]
    }

    fn dil_specs(&self, k: usize) -> [ConvSpec; 2] {
        let c = self.channels;
        [
            ConvSpec::square(c, c, k, self.stride, k - 1)
                .with_dilation(2)
                .depthwise(),
            ConvSpec::square(c, c, 1, 1, 0),
        ]
    }

    fn factorized_specs(&self, k: usize) -> [ConvSpec; 2] {
        let (c, s, p) = (self.channels, self.stride, k / 2);
        [
            ConvSpec {
                kernel: [1, k],
                stride: [1, s],
                padding: [0, p, 0, p],
                ..ConvSpec::square(c, c, 1, 1, 0)
            },
            ConvSpec {
                kernel: [k, 1],
                stride: [s, 1],
                padding: [p, 0, p, 0],
                ..ConvSpec::square(c, c, 1, 1, 0)
            },
        ]
    }

    /// The convolutions of the op, in order, and how many BN layers (of `channels`) follow them.
    fn convs(&self) -> (Vec<ConvSpec>, usize) {
        let c = self.channels;
        match self.kind {
            OpKind::None => (vec![], 0),
            OpKind::SkipConnect if self.stride == 1 => (vec![], 0),
            OpKind::SkipConnect => (factorized_reduce_specs(c, c).to_vec(), 1),
            k if k.is_pool() => (vec![], usize::from(self.pool_bn)),
            OpKind::SepConv3x3 => (self.sep_specs(3).to_vec(), 2),
            OpKind::SepConv5x5 => (self.sep_specs(5).to_vec(), 2),
            OpKind::SepConv7x7 => (self.sep_specs(7).to_vec(), 2),
            OpKind::DilConv3x3 => (self.dil_specs(3).to_vec(), 1),
            OpKind::DilConv5x5 => (self.dil_specs(5).to_vec(), 1),
            OpKind::Conv1x1 | OpKind::NorConv1x1 => {
                (vec![ConvSpec::square(c, c, 1, self.stride, 0)], 1)
            }
            OpKind::Conv3x3 | OpKind::NorConv3x3 => {
                (vec![ConvSpec::square(c, c, 3, self.stride, 1)], 1)
            }
            OpKind::Conv3x1x1x3 => (self.factorized_specs(3).to_vec(), 1),
            OpKind::Conv7x1x1x7 => (self.factorized_specs(7).to_vec(), 1),
            _ => (vec![], 0),
        }
    }

    /// Trainable parameters of the op (BN running statistics excluded).
    pub fn param_count(&self) -> u64 {
        let (convs, bns) = self.convs();
        let bn =
            BatchNorm2dConfig::new(self.channels).with_affine(self.affine && !self.kind.is_pool());
        convs.iter().map(ConvSpec::params).sum::<u64>() + bns as u64 * bn.param_count()
    }

    /// Output side for an input side `x` (`ceil(x / 2)` at stride 2).
    pub fn out_size(&self, x: usize) -> usize {
        if self.stride == 1 {
            x
        } else {
            x.div_ceil(self.stride)
        }
    }

    /// Multiply-accumulates of the convolutions at input size `h x w`.
    pub fn macs(&self, h: usize, w: usize) -> u64 {
        let (convs, _) = self.convs();
        if self.kind == OpKind::SkipConnect && self.stride > 1 {
            return factorized_reduce_macs(self.channels, self.channels, h, w);
        }
        let mut total = 0;
        let (mut h, mut w) = (h, w);
        for c in &convs {
            let (m, oh, ow) = c.macs(h, w);
            total += m;
            (h, w) = (oh, ow);
        }
        total
    }

    /// Checks that the op is a cell op this config can build.
    ///
    /// # Errors
    /// [`OpError::NotBuildable`] for an MBConv block (see [`crate::spaces::mbconv::MbConvBlockConfig`])
    /// or a user op (your own space builds it).
    pub fn validate(&self) -> Result<(), OpError> {
        if self.kind.is_mbconv() || self.kind.is_user() || self.channels == 0 || self.stride == 0 {
            return Err(OpError::NotBuildable {
                network: "cell op".into(),
                op: self.kind.to_string(),
                reason: if self.channels == 0 || self.stride == 0 {
                    format!(
                        "channels ({}) and stride ({}) must be positive",
                        self.channels, self.stride
                    )
                } else {
                    "only the DARTS and NAS-Bench-201 cell ops are built by OpConfig".into()
                },
            });
        }
        Ok(())
    }

    /// Builds the op. An op [`OpConfig::validate`] refuses builds as a module without
    /// convolutions; validate first where the kind comes from a user.
    pub fn init<B: Backend>(&self, device: &B::Device) -> Op<B> {
        let (c, s, affine) = (self.channels, self.stride, self.affine);
        let pool_bn = || {
            self.pool_bn
                .then(|| BatchNorm2dConfig::cell(c, false).init(device))
        };
        match self.kind {
            OpKind::None => Op::Zero(Zero { stride: s }),
            OpKind::SkipConnect if s == 1 => Op::Identity(Identity),
            OpKind::SkipConnect => {
                Op::FactorizedReduce(FactorizedReduce::new(c, c, affine, device))
            }
            OpKind::MaxPool3x3 | OpKind::MaxPool5x5 | OpKind::MaxPool7x7 => {
                let k = match self.kind {
                    OpKind::MaxPool3x3 => 3,
                    OpKind::MaxPool5x5 => 5,
                    _ => 7,
                };
                Op::MaxPool(MaxPoolBn {
                    pool: MaxPool2dConfig::new([k, k])
                        .with_strides([s, s])
                        .with_padding(PaddingConfig2d::Explicit(k / 2, k / 2, k / 2, k / 2))
                        .init(),
                    bn: pool_bn(),
                })
            }
            OpKind::AvgPool3x3 => Op::AvgPool(AvgPoolBn {
                pool: AvgPool2dConfig::new([3, 3])
                    .with_strides([s, s])
                    .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                    .with_count_include_pad(false)
                    .init(),
                bn: pool_bn(),
            }),
            OpKind::SepConv3x3 | OpKind::SepConv5x5 | OpKind::SepConv7x7 => {
                let k = match self.kind {
                    OpKind::SepConv3x3 => 3,
                    OpKind::SepConv5x5 => 5,
                    _ => 7,
                };
                let [a, b, d, e] = self.sep_specs(k);
                Op::SepConv(SepConv {
                    first: DwPwBn::new(a, b, affine, device),
                    second: DwPwBn::new(d, e, affine, device),
                })
            }
            OpKind::DilConv3x3 | OpKind::DilConv5x5 => {
                let k = if self.kind == OpKind::DilConv3x3 {
                    3
                } else {
                    5
                };
                let [a, b] = self.dil_specs(k);
                Op::DilConv(DwPwBn::new(a, b, affine, device))
            }
            _ => Op::Conv(ReluConvBn::new(&self.convs().0, affine, device)),
        }
    }
}

/// `none`: zeros, strided at stride 2.
#[derive(Module, Clone, Debug)]
pub struct Zero {
    /// Stride.
    pub stride: usize,
}

/// `skip_connect` at stride 1.
#[derive(Module, Clone, Debug, Default)]
pub struct Identity;

/// A max pool, optionally followed by a non-affine BN.
#[derive(Module, Debug)]
pub struct MaxPoolBn<B: Backend> {
    /// The pool.
    pub pool: MaxPool2d,
    /// The BN of the DARTS supernet, if any.
    pub bn: Option<BatchNorm2d<B>>,
}

/// An average pool (padding not counted), optionally followed by a non-affine BN.
#[derive(Module, Debug)]
pub struct AvgPoolBn<B: Backend> {
    /// The pool.
    pub pool: AvgPool2d,
    /// The BN of the DARTS supernet, if any.
    pub bn: Option<BatchNorm2d<B>>,
}

/// `sep_conv_kxk`: two stacked ReLU-depthwise-pointwise-BN blocks.
#[derive(Module, Debug)]
pub struct SepConv<B: Backend> {
    /// The first block (carries the stride).
    pub first: DwPwBn<B>,
    /// The second block.
    pub second: DwPwBn<B>,
}

/// A built candidate op. Build it with [`OpConfig::init`].
///
/// # Shapes
/// - input `[n, C, h, w]`, output `[n, C, h, w]` at stride 1 and
///   `[n, C, ceil(h/2), ceil(w/2)]` at stride 2.
#[allow(clippy::large_enum_variant)] // built once per network; size does not matter
#[derive(Module, Debug)]
#[non_exhaustive]
pub enum Op<B: Backend> {
    /// `none`.
    Zero(Zero),
    /// `skip_connect` at stride 1.
    Identity(Identity),
    /// `skip_connect` at stride 2.
    FactorizedReduce(FactorizedReduce<B>),
    /// `max_pool_kxk`.
    MaxPool(MaxPoolBn<B>),
    /// `avg_pool_3x3`.
    AvgPool(AvgPoolBn<B>),
    /// `sep_conv_kxk`.
    SepConv(SepConv<B>),
    /// `dil_conv_kxk`.
    DilConv(DwPwBn<B>),
    /// `conv_*`, `nor_conv_*`, `conv_kx1_1xk`.
    Conv(ReluConvBn<B>),
}

impl<B: Backend> Op<B> {
    /// Applies the op.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        match self {
            Op::Zero(z) => {
                if z.stride == 1 {
                    x.zeros_like()
                } else {
                    let [n, c, h, w] = x.dims();
                    Tensor::zeros(
                        [n, c, h.div_ceil(z.stride), w.div_ceil(z.stride)],
                        &x.device(),
                    )
                }
            }
            Op::Identity(_) => x,
            Op::FactorizedReduce(f) => f.forward(x),
            Op::MaxPool(p) => {
                let y = super::max_pool2d(&p.pool, x);
                match &p.bn {
                    Some(bn) => bn.forward(y),
                    None => y,
                }
            }
            Op::AvgPool(p) => {
                let y = super::avg_pool2d(&p.pool, x);
                match &p.bn {
                    Some(bn) => bn.forward(y),
                    None => y,
                }
            }
            Op::SepConv(s) => s.second.forward(s.first.forward(x)),
            Op::DilConv(d) => d.forward(x),
            Op::Conv(c) => c.forward(x),
        }
    }

    /// Whether the op is the identity (DARTS applies no drop-path to it).
    pub fn is_identity(&self) -> bool {
        matches!(self, Op::Identity(_))
    }
}
