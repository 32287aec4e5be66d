//! How a batch of architectures is scored: the [`Evaluator`] trait and the built-in
//! evaluators, a weight-sharing supernet ([`SupernetEvaluator`]), objectives alone such
//! as benchmark-table lookups ([`TableEvaluator`]), and a function of your own
//! ([`FnEvaluator`], e.g. training each architecture from scratch).

mod error;
mod evaluator;
mod fn_evaluator;
mod params_prior;
mod record;
mod sample_budget;
mod supernet_evaluator;
mod supernet_space;
mod supernet_weights;

pub use error::ScoringError;
pub use evaluator::{Advance, Clock, Evaluator, Progress, StageStart};
pub use fn_evaluator::{FnEvaluator, NoMeasurement, TableEvaluator};
pub use params_prior::{ParamsPrior, WithParamsPrior, with_score_prior};
pub use record::{EpochRecord, StageReport, StageTraining, StepRecord};
pub use sample_budget::SampleBudget;
pub use supernet_evaluator::{
    DataFingerprint, SupernetEvaluator, SupernetPosition, SupernetSettings,
};
pub use supernet_space::{DataShape, SupernetSpace, TrainableSupernet};

use crate::{Architecture, OpKind};

/// The index of every op of `arch` in its edge's active list.
pub(crate) fn active_indices(
    active: &[Vec<OpKind>],
    arch: &Architecture,
) -> Result<Vec<usize>, ScoringError> {
    if arch.len() != active.len() {
        return Err(ScoringError::config(
            "architecture",
            format!(
                "has {} edges, the stage's space {}",
                arch.len(),
                active.len()
            ),
        ));
    }
    arch.ops()
        .iter()
        .zip(active)
        .enumerate()
        .map(|(e, (op, ops))| {
            ops.iter().position(|o| o == op).ok_or_else(|| {
                ScoringError::config(
                    "architecture",
                    format!("edge {e} has `{op}`, which is not active in this stage"),
                )
            })
        })
        .collect()
}
