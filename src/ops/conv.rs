//! Convolution helpers shared by the candidate ops, with analytic counts.

use burn::module::Module;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::tensor::{Tensor, backend::Backend};

use super::{BatchNorm2d, BatchNorm2dConfig, conv2d};
use crate::kernels::relu_conv2d;

/// Shape arithmetic and weight count of one bias-free 2-D convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConvSpec {
    pub c_in: usize,
    pub c_out: usize,
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    /// (top, left, bottom, right)
    pub padding: [usize; 4],
    pub dilation: usize,
    pub groups: usize,
}

impl ConvSpec {
    /// A square conv with symmetric padding.
    pub fn square(c_in: usize, c_out: usize, k: usize, stride: usize, pad: usize) -> Self {
        Self {
            c_in,
            c_out,
            kernel: [k, k],
            stride: [stride, stride],
            padding: [pad, pad, pad, pad],
            dilation: 1,
            groups: 1,
        }
    }

    crate::setters! {
        with_dilation => dilation: usize;
    }

    pub fn depthwise(mut self) -> Self {
        self.groups = self.c_in;
        self
    }

    pub fn params(&self) -> u64 {
        (self.c_out * (self.c_in / self.groups) * self.kernel[0] * self.kernel[1]) as u64
    }

    pub fn out_size(&self, h: usize, w: usize) -> (usize, usize) {
        let o = |x: usize, k: usize, s: usize, p0: usize, p1: usize| {
            (x + p0 + p1).saturating_sub(self.dilation * (k - 1) + 1) / s + 1
        };
        (
            o(
                h,
                self.kernel[0],
                self.stride[0],
                self.padding[0],
                self.padding[2],
            ),
            o(
                w,
                self.kernel[1],
                self.stride[1],
                self.padding[1],
                self.padding[3],
            ),
        )
    }

    /// Multiply-accumulates at input size `h x w`, and the output size.
    pub fn macs(&self, h: usize, w: usize) -> (u64, usize, usize) {
        let (oh, ow) = self.out_size(h, w);
        ((oh * ow) as u64 * self.params(), oh, ow)
    }

    pub fn init<B: Backend>(&self, device: &B::Device) -> Conv2d<B> {
        let [t, l, b, r] = self.padding;
        Conv2dConfig::new([self.c_in, self.c_out], self.kernel)
            .with_stride(self.stride)
            .with_dilation([self.dilation, self.dilation])
            .with_groups(self.groups)
            .with_padding(PaddingConfig2d::Explicit(t, l, b, r))
            .with_bias(false)
            .init(device)
    }
}

/// ReLU, a chain of bias-free convolutions, BN: the body of `conv_*`, `nor_conv_*`,
/// `conv_3x1_1x3`, `conv_7x1_1x7` and of DARTS cell preprocessing.
///
/// # Shapes
/// - input `[n, c_in, h, w]`, output `[n, c_out, h', w']`
#[derive(Module, Debug)]
pub struct ReluConvBn<B: Backend> {
    /// The convolutions, applied in order.
    pub convs: Vec<Conv2d<B>>,
    /// The closing batch norm.
    pub bn: BatchNorm2d<B>,
}

impl<B: Backend> ReluConvBn<B> {
    pub(crate) fn new(specs: &[ConvSpec], affine: bool, device: &B::Device) -> Self {
        let c_out = specs.last().map_or(0, |s| s.c_out);
        Self {
            convs: specs.iter().map(|s| s.init(device)).collect(),
            bn: BatchNorm2dConfig::cell(c_out, affine).init(device),
        }
    }

    /// ReLU, the convolutions, BN (the ReLU fused into the first convolution).
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let mut convs = self.convs.iter();
        let x = match convs.next() {
            Some(first) => {
                super::relu::note_rectifier_input(&x);
                relu_conv2d(first, x)
            }
            None => super::relu(x),
        };
        self.bn.forward(convs.fold(x, |x, c| conv2d(c, x)))
    }
}

/// Depthwise then pointwise convolution, then BN (one half of a separable conv, or a
/// dilated conv), preceded by ReLU.
///
/// # Shapes
/// - input `[n, c, h, w]`, output `[n, c_out, h', w']`
#[derive(Module, Debug)]
pub struct DwPwBn<B: Backend> {
    /// Depthwise convolution.
    pub depthwise: Conv2d<B>,
    /// Pointwise 1x1 convolution.
    pub pointwise: Conv2d<B>,
    /// Closing batch norm.
    pub bn: BatchNorm2d<B>,
}

impl<B: Backend> DwPwBn<B> {
    pub(crate) fn new(dw: ConvSpec, pw: ConvSpec, affine: bool, device: &B::Device) -> Self {
        Self {
            depthwise: dw.init(device),
            pointwise: pw.init(device),
            bn: BatchNorm2dConfig::cell(pw.c_out, affine).init(device),
        }
    }

    /// ReLU, depthwise, pointwise, BN.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        super::relu::note_rectifier_input(&x);
        let x = relu_conv2d(&self.depthwise, x);
        self.bn.forward(conv2d(&self.pointwise, x))
    }
}

/// FactorizedReduce: ReLU, two 1x1 stride-2 convs (the second on the input shifted by
/// one pixel), concatenated, BN. Halves the resolution (rounding up, also for odd sizes).
///
/// # Shapes
/// - input `[n, c_in, h, w]`, output `[n, c_out, ceil(h/2), ceil(w/2)]`
#[derive(Module, Debug)]
pub struct FactorizedReduce<B: Backend> {
    /// Conv on the unshifted input.
    pub conv_a: Conv2d<B>,
    /// Conv on the input shifted by one pixel (zero-padded at the far edge).
    pub conv_b: Conv2d<B>,
    /// Closing batch norm.
    pub bn: BatchNorm2d<B>,
}

/// The two convolutions of a FactorizedReduce from `c_in` to `c_out` channels.
pub(crate) fn factorized_reduce_specs(c_in: usize, c_out: usize) -> [ConvSpec; 2] {
    let a = ConvSpec::square(c_in, c_out / 2, 1, 2, 0);
    let mut b = ConvSpec::square(c_in, c_out - c_out / 2, 1, 2, 0);
    b.padding = [0, 0, 1, 1];
    [a, b]
}

/// Multiply-accumulates of a FactorizedReduce at input size `h x w` (the second conv
/// reads the input shifted by one pixel, i.e. `(h - 1) x (w - 1)` plus its padding).
pub(crate) fn factorized_reduce_macs(c_in: usize, c_out: usize, h: usize, w: usize) -> u64 {
    let [a, b] = factorized_reduce_specs(c_in, c_out);
    a.macs(h, w).0
        + b.macs(h.saturating_sub(1).max(1), w.saturating_sub(1).max(1))
            .0
}

impl<B: Backend> FactorizedReduce<B> {
    pub(crate) fn new(c_in: usize, c_out: usize, affine: bool, device: &B::Device) -> Self {
        let [a, b] = factorized_reduce_specs(c_in, c_out);
        Self {
            conv_a: a.init(device),
            conv_b: b.init(device),
            bn: BatchNorm2dConfig::cell(c_out, affine).init(device),
        }
    }

    /// The reduction.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let x = super::relu(x);
        let [n, c, h, w] = x.dims();
        let a = conv2d(&self.conv_a, x.clone());
        let b = if h > 1 && w > 1 {
            conv2d(&self.conv_b, x.slice([0..n, 0..c, 1..h, 1..w]))
        } else {
            conv2d(&self.conv_b, x.zeros_like())
        };
        self.bn.forward(Tensor::cat(vec![a, b], 1))
    }
}
