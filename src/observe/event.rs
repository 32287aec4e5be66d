//! What a search reports while it runs.

use serde::{Deserialize, Serialize};

use crate::OpKind;
use crate::scoring::EpochRecord;
pub use crate::scoring::StepRecord;

/// One alpha update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlphaRecord {
    /// Stage index.
    pub stage: usize,
    /// Epoch within the stage.
    pub epoch: usize,
    /// Steps since the search began.
    pub global_step: u64,
    /// Updates since the search began.
    pub update: u64,
    /// Mean reward of the samples.
    pub reward_mean: f64,
    /// Best reward of the samples.
    pub reward_max: f64,
    /// Baseline after the update's move (strategies with a policy).
    pub baseline: Option<f64>,
    /// Policy entropy after the update (nats, summed over edges; strategies with a policy).
    pub entropy: Option<f64>,
    /// Norm of the policy gradient before clipping (strategies with a policy).
    pub grad_norm: Option<f64>,
    /// Mean measured accuracy of the samples (percent), where the evaluator measures one.
    pub sample_acc_mean: Option<f64>,
    /// Wall time of the update (scoring included), milliseconds.
    pub update_ms: f64,
    /// Samples of the batch that repeated an architecture scored before and were not
    /// scored again (exact evaluators only).
    #[serde(default)]
    pub repeats: usize,
    /// `softmax(alpha)` of every edge after the update.
    pub probabilities: Vec<Vec<f64>>,
}

/// The summary of one finished stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageSummary {
    /// Stage index.
    pub stage: usize,
    /// Cells of its supernet.
    pub cells: usize,
    /// Initial channels of its supernet.
    pub channels: usize,
    /// Trainable parameters of its supernet (0 without one).
    pub supernet_params: usize,
    /// Samples scored in the stage.
    #[serde(default)]
    pub samples: usize,
    /// Active ops of every edge during the stage.
    pub active: Vec<Vec<OpKind>>,
    /// `softmax(alpha)` of every edge at the end of the stage.
    pub probabilities: Vec<Vec<f64>>,
    /// Total entropy of those probabilities (nats; strategies with a policy), against
    /// [`StageSummary::max_entropy`]: how decided the policy was when the stage dropped
    /// ops.
    #[serde(default)]
    pub entropy: Option<f64>,
    /// The entropy of a uniform policy over the stage's active ops, `sum_e ln(ops_e)`.
    #[serde(default)]
    pub max_entropy: f64,
    /// Ops dropped from every edge at the end of the stage.
    pub dropped: Vec<Vec<OpKind>>,
    /// Wall time of the stage (seconds).
    pub seconds: f64,
}

/// Everything a [`super::SearchObserver`] is told.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SearchEvent {
    /// A stage's supernet was built.
    StageStart {
        /// Stage index.
        stage: usize,
        /// Number of stages.
        stages: usize,
        /// Cells of the supernet.
        cells: usize,
        /// Initial channels.
        channels: usize,
        /// Trainable parameters of the supernet.
        supernet_params: usize,
        /// Epochs of the stage.
        epochs: usize,
        /// Steps per epoch.
        steps_per_epoch: usize,
        /// Epoch the stage starts (or resumes) at.
        from_epoch: usize,
        /// Epochs of the stages before this one (for an overall ETA; 0 in logs written
        /// before this field existed).
        #[serde(default)]
        epochs_before: usize,
        /// Epochs of all stages together (0 in logs written before this field existed).
        #[serde(default)]
        total_epochs: usize,
    },
    /// A weight step (every `log_every` steps).
    Step(StepRecord),
    /// An alpha update.
    Alpha(AlphaRecord),
    /// An epoch ended.
    EpochEnd {
        /// Stage index.
        stage: usize,
        /// Epoch within the stage.
        epoch: usize,
        /// Mean training loss of the epoch.
        loss: f64,
        /// Mean training accuracy of the epoch (percent).
        train_acc: f64,
        /// Wall time of the epoch (seconds).
        seconds: f64,
    },
    /// A stage ended and the space shrank.
    StageEnd(StageSummary),
    /// A checkpoint was written.
    Checkpoint {
        /// Its directory.
        path: String,
        /// How many checkpoints the search has written, this one included
        /// ([`crate::search::SearchState::checkpoints`]).
        #[serde(default)]
        sequence: u64,
    },
    /// The search finished.
    Finished {
        /// The final architecture, as text.
        architecture: String,
        /// Wall time of the whole search (seconds).
        seconds: f64,
    },
}

/// What an observer wants after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Go on.
    Continue,
    /// Stop at the next epoch boundary (after its checkpoint).
    Stop,
}

impl From<EpochRecord> for SearchEvent {
    fn from(r: EpochRecord) -> Self {
        SearchEvent::EpochEnd {
            stage: r.stage,
            epoch: r.epoch,
            loss: r.loss,
            train_acc: r.train_acc,
            seconds: r.seconds,
        }
    }
}
