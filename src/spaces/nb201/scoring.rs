//! How a search trains and scores the NAS-Bench-201 space: its supernet and evaluation
//! network.

use std::sync::Arc;

use burn::tensor::backend::Backend;

use super::{Nb201NetworkConfig, Nb201NetworkSpec, Nb201Space, Nb201SuperNet, Nb201SuperNetConfig};
use crate::OpKind;
use crate::network::EvalNetworkSpec;
use crate::schedule::StageConfig;
use crate::scoring::{DataShape, SupernetSpace};
use crate::supernet::SuperNetError;

impl SupernetSpace for Nb201Space {
    type Supernet<B: Backend> = Nb201SuperNet<B>;

    fn supernet<B: Backend>(
        &self,
        stage: &StageConfig,
        active: &[Vec<OpKind>],
        data: &DataShape,
        device: &B::Device,
    ) -> Result<Nb201SuperNet<B>, SuperNetError> {
        Nb201SuperNetConfig::new(stage.channels, stage.cells, data.classes, active.to_vec())
            .with_in_channels(data.channels)
            .with_skip_dropout(stage.skip_dropout)
            .init(device)
    }

    /// The NAS-Bench-201 network at C = 16 with 5 cells per stage.
    fn network(&self, data: &DataShape) -> Arc<dyn EvalNetworkSpec> {
        Arc::new(Nb201NetworkSpec::new(
            Nb201NetworkConfig::new(16, 5, data.classes).with_in_channels(data.channels),
        ))
    }
}
