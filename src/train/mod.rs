//! The one training loop's pieces, shared by the supernet evaluator and by retraining:
//! SGD with PyTorch semantics ([`SgdSettings`]), the cosine schedule ([`cosine_lr`]), the
//! step with global gradient-norm clipping ([`sgd_step`]), and accuracy counting
//! ([`count_correct`], [`loss_and_hits`]).

mod accuracy;
mod cosine;
mod grad_clip;
mod retrain;
mod retrain_error;
mod sgd;
mod step;
mod train_config;

pub use accuracy::{count_correct, loss_and_hits};
pub(crate) use accuracy::{hits_value, true_class_probability};
pub use cosine::cosine_lr;
pub use grad_clip::{clip_grad_norm, grad_norm};
pub use retrain::{
    EpochRecord, MODEL_FILE, NetworkOutcome, RetrainConfig, RetrainEvent, RetrainOutcome,
    RetrainReport, evaluate_accuracy, load_model, load_weights, retrain, retrain_network,
    save_model,
};
pub use retrain_error::RetrainError;
pub use sgd::{Sgd, SgdSettings};
pub use step::sgd_step;
pub use train_config::{PathSampling, ScoreBn, ScoreMetric, TrainConfig, TrainMode};
