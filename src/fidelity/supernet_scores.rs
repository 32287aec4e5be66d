//! The scores a trained supernet gives a list of architectures.

use std::time::Instant;

use burn::tensor::backend::AutodiffBackend;

use super::StageEndProbe;
use crate::Architecture;
use crate::data::ImageDataset;
use crate::objective::{Objective, ValidationAccuracy, WeightedSum};
use crate::observe::SearchObserver;
use crate::scoring::{SupernetSpace, TrainableSupernet};
use crate::search::{Search, SearchConfig, SearchError};

/// What [`supernet_scores`] measured.
#[derive(Debug, Clone, PartialEq)]
pub struct SupernetScores {
    /// The supernet's accuracy (percent) of every architecture, in order (`None` for
    /// one whose ops the last stage no longer holds).
    pub scores: Vec<Option<f64>>,
    /// Seconds of the search that trained the supernet (scoring excluded).
    pub search_seconds: f64,
    /// Seconds spent scoring the architectures.
    pub score_seconds: f64,
    /// The search's own final architecture (the one it selects), in the space's notation.
    pub selected: String,
}

/// Runs the supernet search `config` describes on `data` (its strategy, stages,
/// training and scoring settings, supernet accuracy as the only objective), and when
/// its last stage ends scores `archs` with that stage's supernet exactly as the search
/// scored its samples: `config.updater.samples` architectures per call, on the
/// validation batches, scoring set and BN statistics the configuration gives. This is
/// how well the supernet of a configuration ranks architectures, measured; compare the
/// scores with a ground truth ([`super::rank_report`]).
///
/// Give a one-stage schedule that keeps every op (the scores of architectures with
/// dropped ops are `None`).
///
/// # Errors
/// Any invalid setting (before any work), data and training errors of the search.
pub fn supernet_scores<B, S>(
    config: &SearchConfig,
    space: S,
    data: ImageDataset,
    device: B::Device,
    archs: Vec<Architecture>,
    observers: &mut [&mut dyn SearchObserver],
) -> Result<SupernetScores, SearchError>
where
    B: AutodiffBackend,
    S: SupernetSpace,
    S::Supernet<B>: TrainableSupernet<B>,
{
    config.validate()?;
    let strategy = config
        .strategy
        .init(&space, &config.updater, &config.schedule, config.seed)?;
    let (evaluator, network) = config.supernet_evaluator::<B, S>(&space, data, device)?;
    let (probe, handle) = StageEndProbe::new(evaluator, archs, config.updater.samples);
    let objectives: Vec<Box<dyn Objective>> = vec![Box::new(ValidationAccuracy::new())];
    let reward = WeightedSum::new(vec![1.0])?;
    let mut search = Search::from_parts(
        space,
        &config.schedule,
        strategy,
        Box::new(probe),
        objectives,
        Box::new(reward),
    )?
    .with_network(network);
    let started = Instant::now();
    let result = search.run(observers)?;
    let seconds = started.elapsed().as_secs_f64();
    let probed = handle
        .lock()
        .ok()
        .and_then(|mut p| p.take())
        .ok_or_else(|| SearchError::config("schedule", "the search ended before its last stage"))?;
    Ok(SupernetScores {
        scores: probed.scores,
        search_seconds: seconds - probed.seconds,
        score_seconds: probed.seconds,
        selected: result.final_architecture.text,
    })
}
