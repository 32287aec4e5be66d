//! The serialisable position of a search.

use serde::{Deserialize, Serialize};

use super::StageSummary;
use crate::objective::ParetoArchive;
use crate::policy::UpdateStats;

/// Everything the executor needs to continue a search exactly, besides what the
/// strategy and the evaluator keep: the identity of the search (space, strategy,
/// evaluator, objectives, configuration), the stage, every scored sample and the
/// finished stages. In a checkpoint, `strategy` and `evaluator` hold their states
/// ([`crate::strategy::Strategy::save`], [`crate::scoring::Evaluator::save`]); in a
/// running search they are `null` and the live objects are the truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchState {
    /// Format version.
    pub version: u32,
    /// The space's identifier.
    pub space_id: String,
    /// The strategy's name.
    pub strategy_name: String,
    /// The evaluator's name.
    pub evaluator_name: String,
    /// The configuration the search was started with (checked on resume).
    pub config: serde_json::Value,
    /// Objective names, in order.
    pub objectives: Vec<String>,
    /// The reward ([`crate::objective::Reward::describe`]; checked on resume).
    pub reward: String,
    /// The current stage (0-based; the number of stages once finished).
    pub stage: usize,
    /// Every scored sample.
    pub archive: ParetoArchive,
    /// Finished stages.
    pub stages: Vec<StageSummary>,
    /// Statistics of every policy update (strategies with a policy).
    pub history: Vec<UpdateStats>,
    /// Wall time spent so far (seconds), across resumes.
    pub elapsed_seconds: f64,
    /// Checkpoints written so far, this one included: the `sequence` of its
    /// [`crate::search::SearchEvent::Checkpoint`], by which a resumed log is cut back
    /// ([`crate::search::JsonlLog::resume`]).
    #[serde(default)]
    pub checkpoints: u64,
    /// The strategy's state (in checkpoints).
    pub strategy: serde_json::Value,
    /// The evaluator's state (in checkpoints).
    pub evaluator: serde_json::Value,
}

pub(crate) const STATE_VERSION: u32 = 3;
