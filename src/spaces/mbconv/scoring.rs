//! How a search trains and scores the MBConv chain: its supernet and evaluation network.

use std::sync::Arc;

use burn::tensor::backend::Backend;

use super::{
    MbConvNetworkConfig, MbConvNetworkSpec, MbConvSpace, MbConvSuperNet, MbConvSuperNetConfig,
};
use crate::OpKind;
use crate::network::EvalNetworkSpec;
use crate::schedule::StageConfig;
use crate::scoring::{DataShape, SupernetSpace};
use crate::supernet::SuperNetError;

impl SupernetSpace for MbConvSpace {
    type Supernet<B: Backend> = MbConvSuperNet<B>;

    /// The chain at width multiplier `stage.channels / 32` (the stem has 32 channels at
    /// width 1, so `channels = 8` is width 0.25); the chain's depth is the space's, so
    /// `stage.cells` and `skip_dropout` are not used.
    fn supernet<B: Backend>(
        &self,
        stage: &StageConfig,
        active: &[Vec<OpKind>],
        data: &DataShape,
        device: &B::Device,
    ) -> Result<MbConvSuperNet<B>, SuperNetError> {
        MbConvSuperNetConfig::new(data.classes, active.to_vec())
            .with_width(stage.channels as f64 / 32.0)
            .with_in_channels(data.channels)
            .init(self, device)
    }

    /// The chain at width 1 (MobileNetV2's widths).
    fn network(&self, data: &DataShape) -> Arc<dyn EvalNetworkSpec> {
        Arc::new(MbConvNetworkSpec::new(
            self.clone(),
            MbConvNetworkConfig::new(data.classes).with_in_channels(data.channels),
        ))
    }
}
