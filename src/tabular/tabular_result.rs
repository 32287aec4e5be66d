//! What a tabular search returns.

use serde::{Deserialize, Serialize};

use super::Strategy;
use crate::objective::ParetoArchive;
use crate::policy::UpdateStats;
use crate::{Architecture, OpKind};

/// The policy at the end of one stage, before its drop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageSummary {
    /// 0-based stage index.
    pub stage: usize,
    /// Samples scored in the stage.
    pub samples: usize,
    /// Active ops of every edge during the stage.
    pub active: Vec<Vec<OpKind>>,
    /// `softmax(alpha_e)` over them at the end of the stage.
    pub probabilities: Vec<Vec<f64>>,
    /// The ops each edge dropped at the end of the stage.
    pub dropped: Vec<Vec<OpKind>>,
}

/// The outcome of a tabular search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TabularResult {
    /// The strategy that ran.
    pub strategy: Strategy,
    /// The final architecture: derived from the shrunk policy (TND) or the best-rewarded
    /// sample (random search).
    pub final_architecture: Architecture,
    /// Its objective values (evaluated once more for TND; not counted in `samples`).
    pub final_values: Vec<f64>,
    /// Its reward, with the last stage's reward settings.
    pub final_reward: f64,
    /// Every scored sample and the Pareto front.
    pub archive: ParetoArchive,
    /// Samples scored (repeats included); equals the budget.
    pub samples: usize,
    /// The policy per stage (empty for random search).
    pub stages: Vec<StageSummary>,
    /// Statistics of every policy update (empty for random search).
    pub history: Vec<UpdateStats>,
}
