//! The MBConv chain network of an architecture of the MBConv space.

use burn::module::Module;
use burn::tensor::{Tensor, backend::Backend};
use serde::{Deserialize, Serialize};

use super::{
    MbConvBlock, MbConvBlockConfig, MbConvEnds, MbConvHead, MbConvPlan, MbConvSpace, MbConvStem,
    mbconv_ends,
};
use crate::network::{BuildNetwork, EvalNetworkSpec, ImageClassifier, NetworkError};
use crate::space::SpaceError;
use crate::{Architecture, SearchSpace};

/// Configuration of an [`MbConvNetwork`]: the MobileNetV2 backbone at width multiplier
/// `width` with the searched blocks (counted as torchvision counts MobileNetV2).
///
/// ```
/// use tnd_nas::spaces::mbconv::MbConvNetworkConfig;
/// use tnd_nas::spaces::mbconv::MbConvSpace;
/// let space = MbConvSpace::mobilenet_v2();
/// let v2 = space.parse(&vec!["e6_k3"; 16].join(","))?;
/// let cfg = MbConvNetworkConfig::new(1000);
/// assert_eq!(cfg.param_count(&space, &v2)?, 3_504_872);
/// assert_eq!(cfg.macs(&space, &v2, 224)?, 300_774_272);
/// # Ok::<(), tnd_nas::space::SpaceError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MbConvNetworkConfig {
    /// Number of classes.
    pub classes: usize,
    /// Image channels.
    #[serde(default = "mb_conv_network_config_in_channels")]
    pub in_channels: usize,
    /// Width multiplier (channels rounded to multiples of 8, as MobileNetV2 does).
    #[serde(default = "mb_conv_network_config_width")]
    pub width: f64,
    /// Dropout before the classifier.
    #[serde(default = "mb_conv_network_config_dropout")]
    pub dropout: f64,
}

impl MbConvNetworkConfig {
    /// The configuration of the required fields; every other field takes its default.
    pub fn new(classes: usize) -> Self {
        Self {
            classes,
            in_channels: mb_conv_network_config_in_channels(),
            width: mb_conv_network_config_width(),
            dropout: mb_conv_network_config_dropout(),
        }
    }

    crate::setters! {
        /// Sets [`in_channels`](Self::in_channels) (default 3).
        with_in_channels => in_channels: usize;
        /// Sets [`width`](Self::width) (default 1.0).
        with_width => width: f64;
        /// Sets [`dropout`](Self::dropout) (default 0.2).
        with_dropout => dropout: f64;
    }
}

fn mb_conv_network_config_in_channels() -> usize {
    3
}

fn mb_conv_network_config_width() -> f64 {
    1.0
}

fn mb_conv_network_config_dropout() -> f64 {
    0.2
}

impl MbConvNetworkConfig {
    /// The channel plan and the fixed ends.
    pub(crate) fn ends(&self, space: &MbConvSpace) -> (MbConvPlan, MbConvEnds) {
        let plan = space.plan(self.width);
        let ends = mbconv_ends(&plan, self.in_channels, self.classes, self.dropout, false);
        (plan, ends)
    }

    /// The block config of every searchable block (`None` for `skip`).
    fn blocks(
        &self,
        space: &MbConvSpace,
        arch: &Architecture,
    ) -> Result<Vec<Option<MbConvBlockConfig>>, SpaceError> {
        space.validate(arch)?;
        let (plan, _) = self.ends(space);
        Ok(plan
            .blocks
            .iter()
            .zip(arch.ops())
            .map(|(slot, &op)| {
                MbConvBlockConfig::for_choice(op, slot.c_in, slot.c_out, slot.stride)
            })
            .collect())
    }

    /// Trainable parameters of the network of `arch`.
    ///
    /// # Errors
    /// [`SpaceError`] if `arch` is not an architecture of `space`.
    pub fn param_count(&self, space: &MbConvSpace, arch: &Architecture) -> Result<u64, SpaceError> {
        let (_, ends) = self.ends(space);
        let blocks = self.blocks(space, arch)?;
        Ok(ends.param_count()
            + blocks
                .iter()
                .flatten()
                .map(MbConvBlockConfig::param_count)
                .sum::<u64>())
    }

    /// Multiply-accumulates (convolutions and classifier) on one `input x input` image.
    ///
    /// # Errors
    /// [`SpaceError`] if `arch` is not an architecture of `space`.
    pub fn macs(
        &self,
        space: &MbConvSpace,
        arch: &Architecture,
        input: usize,
    ) -> Result<u64, SpaceError> {
        let (_, ends) = self.ends(space);
        let (mut total, mut side) = ends.stem_macs(input);
        for block in self.blocks(space, arch)?.iter().flatten() {
            let (m, s) = block.macs(side);
            total += m;
            side = s;
        }
        Ok(total + ends.head_macs(side))
    }

    /// Builds the network of `arch`.
    ///
    /// # Errors
    /// [`NetworkError::Genotype`] if `arch` is not an architecture of `space`;
    /// [`NetworkError::InvalidConfig`] for zero classes or channels or a width that is not
    /// positive.
    pub fn init<B: Backend>(
        &self,
        space: &MbConvSpace,
        arch: &Architecture,
        device: &B::Device,
    ) -> Result<MbConvNetwork<B>, NetworkError> {
        if self.classes == 0
            || self.in_channels == 0
            || !(self.width > 0.0 && self.width.is_finite())
        {
            return Err(NetworkError::InvalidConfig(format!(
                "classes ({}) and in_channels ({}) must be positive, width ({}) positive and finite",
                self.classes, self.in_channels, self.width
            )));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(NetworkError::InvalidConfig(format!(
                "dropout {} is not in [0, 1)",
                self.dropout
            )));
        }
        let (_, ends) = self.ends(space);
        let blocks = self.blocks(space, arch)?;
        let net = MbConvNetwork {
            stem: ends.init_stem(device),
            blocks: blocks
                .iter()
                .map(|b| b.as_ref().map(|b| b.init(device)))
                .collect(),
            head: ends.init_head(device),
        };
        // Initialise the lazy parameters now: forward passes clone modules, and a clone
        // of an uninitialised parameter draws its own values.
        crate::ops::materialize(&net);
        Ok(net)
    }
}

/// The network of one MBConv-space architecture.
///
/// # Shapes
/// - input `[n, in_channels, h, w]`, output logits `[n, classes]`
#[derive(Module, Debug)]
pub struct MbConvNetwork<B: Backend> {
    /// Stem and fixed first block.
    pub stem: MbConvStem<B>,
    /// The searched blocks (`None` for `skip`).
    pub blocks: Vec<Option<MbConvBlock<B>>>,
    /// Last conv, pool, classifier.
    pub head: MbConvHead<B>,
}

impl<B: Backend> MbConvNetwork<B> {
    /// Classifies a batch.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        let x = self
            .blocks
            .iter()
            .flatten()
            .fold(self.stem.forward(x), |x, b| b.forward(x));
        self.head.forward(x)
    }
}

impl<B: Backend> ImageClassifier<B> for MbConvNetwork<B> {
    fn classify(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        self.forward(x)
    }
}

/// The MBConv chain network of architectures of an [`MbConvSpace`].
#[derive(Debug, Clone)]
pub struct MbConvNetworkSpec {
    /// The space.
    pub space: MbConvSpace,
    /// The network.
    pub network: MbConvNetworkConfig,
}

impl MbConvNetworkSpec {
    /// The network `network` of architectures of `space`.
    pub fn new(space: MbConvSpace, network: MbConvNetworkConfig) -> Self {
        Self { space, network }
    }
}

impl EvalNetworkSpec for MbConvNetworkSpec {
    fn param_count(&self, arch: &Architecture) -> Result<u64, SpaceError> {
        self.network.param_count(&self.space, arch)
    }
    fn macs(&self, arch: &Architecture, input: usize) -> Result<u64, SpaceError> {
        self.network.macs(&self.space, arch, input)
    }
    fn in_channels(&self) -> usize {
        self.network.in_channels
    }
}

impl BuildNetwork for MbConvNetworkSpec {
    type Network<B: Backend> = MbConvNetwork<B>;
    fn build<B: Backend>(
        &self,
        arch: &Architecture,
        device: &B::Device,
    ) -> Result<MbConvNetwork<B>, NetworkError> {
        self.network.init(&self.space, arch, device)
    }
}
