//! How a search trains and scores the DARTS space: its supernet and evaluation network.

use std::sync::Arc;

use burn::tensor::backend::Backend;

use super::{DartsNetworkSpec, DartsSpace, DartsSuperNet, DartsSuperNetConfig, EvalNetworkConfig};
use crate::OpKind;
use crate::network::EvalNetworkSpec;
use crate::schedule::StageConfig;
use crate::scoring::{DataShape, SupernetSpace};
use crate::supernet::SuperNetError;

impl SupernetSpace for DartsSpace {
    type Supernet<B: Backend> = DartsSuperNet<B>;

    fn supernet<B: Backend>(
        &self,
        stage: &StageConfig,
        active: &[Vec<OpKind>],
        data: &DataShape,
        device: &B::Device,
    ) -> Result<DartsSuperNet<B>, SuperNetError> {
        DartsSuperNetConfig::new(
            self.nodes(),
            stage.channels,
            stage.cells,
            data.classes,
            active.to_vec(),
        )
        .with_in_channels(data.channels)
        .with_skip_dropout(stage.skip_dropout)
        .init(device)
    }

    /// DARTS `NetworkCIFAR` at C = 36 with 20 cells.
    fn network(&self, data: &DataShape) -> Arc<dyn EvalNetworkSpec> {
        Arc::new(DartsNetworkSpec::new(
            self.clone(),
            EvalNetworkConfig::new(36, 20, data.classes).with_in_channels(data.channels),
        ))
    }
}
