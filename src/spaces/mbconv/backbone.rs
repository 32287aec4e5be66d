//! The fixed ends of an MBConv chain: stem + first block, and the head.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::tensor::{Tensor, backend::Backend};

use super::block::{bn_for, relu6};
use super::{MbConvBlock, MbConvBlockConfig};
use crate::ops::{BatchNorm2d, ConvSpec, conv2d};

/// The sizes of the fixed ends of an MBConv chain (MobileNetV2: Conv3x3 s2 to `stem` +
/// BN + ReLU6, a block of expansion 1 and kernel 3 to `first`; Conv1x1 from `last_in` to
/// `last` + BN + ReLU6, global pool, dropout, Linear to `classes`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct MbConvEnds {
    pub in_channels: usize,
    pub stem: usize,
    pub first: usize,
    pub last_in: usize,
    pub last: usize,
    pub classes: usize,
    pub dropout: f64,
    pub batch_stats: bool,
}

impl MbConvEnds {
    fn stem_conv(&self) -> ConvSpec {
        ConvSpec::square(self.in_channels, self.stem, 3, 2, 1)
    }
    fn first_block(&self) -> MbConvBlockConfig {
        MbConvBlockConfig::new(self.stem, self.first, 1, 3, 1).with_batch_stats(self.batch_stats)
    }
    fn last_conv(&self) -> ConvSpec {
        ConvSpec::square(self.last_in, self.last, 1, 1, 0)
    }
    fn bn<B: Backend>(&self, c: usize, device: &B::Device) -> BatchNorm2d<B> {
        bn_for(c, self.batch_stats).init(device)
    }

    /// Trainable parameters of both ends.
    pub fn param_count(&self) -> u64 {
        self.stem_conv().params()
            + bn_for(self.stem, self.batch_stats).param_count()
            + self.first_block().param_count()
            + self.last_conv().params()
            + bn_for(self.last, self.batch_stats).param_count()
            + (self.last * self.classes + self.classes) as u64
    }

    /// MACs of the stem and first block on a `side` input, and the side after them.
    pub fn stem_macs(&self, side: usize) -> (u64, usize) {
        let (m, h, _) = self.stem_conv().macs(side, side);
        let (f, h) = self.first_block().macs(h);
        (m + f, h)
    }

    /// MACs of the head on a `side` input (the last conv and the classifier).
    pub fn head_macs(&self, side: usize) -> u64 {
        self.last_conv().macs(side, side).0 + (self.last * self.classes) as u64
    }

    pub fn init_stem<B: Backend>(&self, device: &B::Device) -> MbConvStem<B> {
        MbConvStem {
            conv: self.stem_conv().init(device),
            bn: self.bn(self.stem, device),
            first: self.first_block().init(device),
        }
    }

    pub fn init_head<B: Backend>(&self, device: &B::Device) -> MbConvHead<B> {
        MbConvHead {
            conv: self.last_conv().init(device),
            bn: self.bn(self.last, device),
            dropout: DropoutConfig::new(self.dropout).init(),
            classifier: LinearConfig::new(self.last, self.classes).init(device),
        }
    }
}

/// Conv3x3 s2 + BN + ReLU6, then the fixed first block.
#[derive(Module, Debug)]
pub struct MbConvStem<B: Backend> {
    /// Stem convolution.
    pub conv: Conv2d<B>,
    /// Its BN.
    pub bn: BatchNorm2d<B>,
    /// The first block (expansion 1, 3x3).
    pub first: MbConvBlock<B>,
}

impl<B: Backend> MbConvStem<B> {
    /// Runs the stem and the first block.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        self.first
            .forward(relu6(self.bn.forward(conv2d(&self.conv, x))))
    }
}

/// Conv1x1 + BN + ReLU6, global average pool, dropout, Linear.
#[derive(Module, Debug)]
pub struct MbConvHead<B: Backend> {
    /// The last 1x1 convolution.
    pub conv: Conv2d<B>,
    /// Its BN.
    pub bn: BatchNorm2d<B>,
    /// Dropout before the classifier (training only).
    pub dropout: Dropout,
    /// Classifier.
    pub classifier: Linear<B>,
}

impl<B: Backend> MbConvHead<B> {
    /// The logits of the features.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        let x = relu6(self.bn.forward(conv2d(&self.conv, x)));
        let pooled = x.mean_dim(3).mean_dim(2).flatten::<2>(1, 3);
        crate::kernels::linear(&self.classifier, self.dropout.forward(pooled))
    }
}
