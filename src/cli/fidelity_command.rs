//! `tnd-nas fidelity`: how well an evaluator ranks the architectures of a ground truth.

use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::tensor::backend::AutodiffBackend;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::common::OutputFile;
use super::config_file::ConfigFlags;
use super::program::with_backend;
use super::search_command::{Preset, ScorePriorName};
use super::{CliError, DatasetName, DeviceName};
use crate::Architecture;
use crate::fidelity::{
    GroundTruth, GroundTruthProtocol, RankReport, TruthCell, kendall_tau, rank_mean, rank_report,
    spearman_rho, supernet_scores,
};
use crate::proxy::ZeroCostProxy;
use crate::schedule::{ShrinkScheduleConfig, StageConfig};
use crate::search::{PathSampling, ScoreBn, ScoreMetric, SearchConfig, TrainMode};
use crate::spaces::nb201::Nb201Space;
use crate::strategy::StrategyConfig;

/// What scores the ground truth's architectures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum EvaluatorName {
    /// Trainable parameters of the ground truth's network (free).
    Params,
    /// Multiply-accumulates of the ground truth's network (free).
    Macs,
    /// A supernet trained by a one-stage search, scoring each cell as the search does.
    Supernet,
    /// synflow of the ground truth's network, freshly initialised (data-free).
    Synflow,
    /// NASWOT of the ground truth's network on one training batch.
    Naswot,
    /// grad_norm of the ground truth's network on one training batch.
    GradNorm,
    /// snip of the ground truth's network on one training batch.
    Snip,
    /// zero-cost (synflow and the parameter count standardised on 64 random cells) of the
    /// ground truth's network (data-free).
    ZeroCost,
}

impl EvaluatorName {
    /// The zero-cost proxy the evaluator is, if it is one.
    fn proxy(self) -> Option<ZeroCostProxy> {
        match self {
            EvaluatorName::Synflow => Some(ZeroCostProxy::Synflow),
            EvaluatorName::Naswot => Some(ZeroCostProxy::Naswot),
            EvaluatorName::GradNorm => Some(ZeroCostProxy::GradNorm),
            EvaluatorName::Snip => Some(ZeroCostProxy::Snip),
            EvaluatorName::ZeroCost => Some(ZeroCostProxy::ZeroCost),
            EvaluatorName::Params | EvaluatorName::Macs | EvaluatorName::Supernet => None,
        }
    }
}

/// Which validation batches a supernet scores each call on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ScoreSet {
    /// The same batches for every call (`TrainConfig::score_fixed`).
    Fixed,
    /// The next batches of the validation half for each call.
    Rolling,
}

/// Options of `tnd-nas fidelity`.
///
/// Scores every architecture of a NAS-Bench-201 ground truth (the CSV that
/// `examples/fm_ground_truth.rs` writes: arch, params, macs, seed, test_accuracy, ...)
/// with each `--evaluator` and prints Kendall tau, Spearman rho, the precision of the
/// top 10%, Kendall tau within the better half (by truth) and the cost in seconds; with
/// two seeds in the file, first the same figures between the seeds (the ceiling).
///
/// The supernet is trained by a one-stage search over every op (the preset's training
/// and scoring settings; depth, width, epochs and the options below change them) on the
/// training split, and scores each cell when the stage ends exactly as the search
/// scored its samples, `updater.samples` cells per call.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
#[command(
    after_help = "Prints one line per evaluator; --out also writes them as JSON, \
    with every cell's score."
)]
pub struct FidelityArgs {
    /// The ground-truth CSV (e.g. data/fm-nb201/ground-truth.csv)
    #[arg(long, value_name = "FILE.csv")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truth: Option<PathBuf>,
    /// What scores the cells (repeat for several) [default: params, macs]
    #[arg(long, value_enum)]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evaluator: Vec<EvaluatorName>,
    /// The images a supernet trains on (its training split)
    #[arg(long, value_enum)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<DatasetName>,
    /// Folder of the dataset's files (not needed for `sample`)
    #[arg(long, value_name = "DIR")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// Shrink the images by this factor [default: the ground truth's protocol.json, else 1]
    #[arg(long, value_name = "FACTOR", value_parser = clap::value_parser!(u64).range(1..=16))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub downsample: Option<u64>,
    /// The supernet's training and scoring settings to start from [default: cpu]
    #[arg(long, value_enum)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<Preset>,
    /// What drives training paths: tnd (the policy) or random (uniform) [default: the preset's]
    #[arg(long, value_name = "STRATEGY")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<StrategyConfig>,
    /// Weighted or single-path weight training [default: the preset's]
    #[arg(long, value_enum)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<TrainMode>,
    /// Training paths from the policy or uniform [default: the preset's]
    #[arg(long, value_enum)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampling: Option<PathSampling>,
    /// BN statistics when scoring: running or batch (per path) [default: the preset's]
    #[arg(long, value_enum)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score_bn: Option<ScoreBn>,
    /// What a score measures: accuracy or probability (of the true class) [default: the preset's]
    #[arg(long, value_enum)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score_metric: Option<ScoreMetric>,
    /// Validation batches per scoring call [default: the preset's]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=10_000))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score_batches: Option<u64>,
    /// Zero padding of the random crop that augments supernet training [default: the
    /// preset's, 4]; 0 trains on uncropped images (flips only)
    #[arg(long, value_name = "PIXELS", value_parser = clap::value_parser!(u64).range(0..=64))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crop_padding: Option<u64>,
    /// Score every call on the same batches (fixed) or on the next ones (rolling)
    /// [default: the preset's]
    #[arg(long, value_enum)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score_set: Option<ScoreSet>,
    /// The updater's stage spread (how far alpha may drift in a stage) [default: the preset's]
    #[arg(long, value_name = "X")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage_spread: Option<f64>,
    /// Supernet width: channels of its first stage [default: the preset's first stage]
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channels: Option<u64>,
    /// Supernet depth: cells per stage [default: the preset's first stage]
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=64))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cells: Option<u64>,
    /// Training epochs [default: the preset's first stage]
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epochs: Option<u64>,
    /// Weight-only warm-up epochs, fewer than --epochs [default: the preset's first stage]
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=10_000))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup: Option<u64>,
    /// At most this many weight steps per epoch [default: the preset's]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_steps: Option<u64>,
    /// Supernet training batch size, also the scoring batch size [default: the preset's]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=65_536))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<u64>,
    /// Supernet learning rate, annealed by a cosine over the epochs [default: the preset's]
    #[arg(long, value_name = "LR")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lr: Option<f64>,
    /// Weight steps between two asks of the strategy [default: the preset's]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpha_every: Option<u64>,
    /// Join each supernet score with the parameter count, as the search does (params),
    /// or not (none) [default: the preset's]
    #[arg(long, value_enum)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score_prior: Option<ScorePriorName>,
    /// Seed of the supernet search [default: 0]
    #[arg(long)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Images in the batch a data-dependent proxy (naswot, grad-norm, snip) reads [default: 64]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(2..=4096))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_batch: Option<u64>,
    /// Also print each evaluator's rank mean with the parameter count (equal weights,
    /// nothing fitted): whether it carries information the free baseline lacks
    #[arg(long)]
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub plus_params: bool,
    /// Only the first N cells of the ground truth
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(2..))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// Where to compute [default: cpu]
    #[arg(long, value_enum)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<DeviceName>,
    /// Also write the figures and every cell's score as JSON (refused if it exists unless --force)
    #[arg(long, value_name = "FILE.json")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out: Option<PathBuf>,
    /// Replace an existing --out
    #[arg(long)]
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub force: bool,
    #[command(flatten)]
    #[serde(skip)]
    #[allow(missing_docs)]
    pub flags: ConfigFlags,
}

/// One evaluator's line.
#[derive(Debug, Clone, Serialize)]
struct Line {
    evaluator: String,
    #[serde(flatten)]
    report: RankReport,
    seconds: f64,
    /// The supernet search's final architecture (for the ground truth's selected cells).
    #[serde(skip_serializing_if = "Option::is_none")]
    selected: Option<String>,
    scores: Vec<f64>,
}

impl Line {
    /// `scores`' figures against `accuracy`, printed as one line of the table.
    fn new(
        evaluator: String,
        accuracy: &[f64],
        scores: Vec<f64>,
        seconds: f64,
        selected: Option<String>,
    ) -> Result<Self, CliError> {
        let report = rank_report(accuracy, &scores).map_err(|e| CliError::Input(e.to_string()))?;
        println!(
            "{:<56} {:>5} {:>8} {:>8} {:>6.2} {:>11} {:>9.1}",
            evaluator,
            report.cells,
            show(report.kendall_tau),
            show(report.spearman_rho),
            report.top10_precision,
            show(report.tau_better_half),
            seconds
        );
        Ok(Line {
            evaluator,
            report,
            seconds,
            selected,
            scores,
        })
    }
}

/// The table's header, and the line of seed 0 against seed 1 where the ground truth has
/// both (the ceiling of any evaluator's ranking).
fn print_header_and_ceiling(truth: &GroundTruth) -> Result<(), CliError> {
    println!(
        "{:<56} {:>5} {:>8} {:>8} {:>6} {:>11} {:>9}",
        "evaluator", "cells", "tau", "rho", "top10%", "tau(better)", "seconds"
    );
    let pairs = truth.seed_pairs(0, 1);
    if pairs.len() >= 2 {
        let (a, b): (Vec<f64>, Vec<f64>) = pairs.into_iter().unzip();
        let r = rank_report(&a, &b).map_err(|e| CliError::Input(e.to_string()))?;
        println!(
            "{:<56} {:>5} {:>8} {:>8} {:>6.2} {:>11} {:>9}",
            "seed 0 vs seed 1 (the ceiling)",
            r.cells,
            show(kendall_tau(&a, &b)),
            show(spearman_rho(&a, &b)),
            r.top10_precision,
            show(r.tau_better_half),
            "-"
        );
    }
    Ok(())
}

fn show(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.3}"))
}

impl FidelityArgs {
    /// The options with every default filled in.
    ///
    /// # Errors
    /// [`CliError::Usage`] for a missing `--truth`, a supernet without `--dataset`, or
    /// a warm-up not shorter than the epochs.
    pub fn effective(&self) -> Result<Self, CliError> {
        let Some(truth) = &self.truth else {
            return Err(CliError::usage("--truth FILE.csv is required"));
        };
        let evaluator = if self.evaluator.is_empty() {
            vec![EvaluatorName::Params, EvaluatorName::Macs]
        } else {
            self.evaluator.clone()
        };
        let supernet = evaluator.contains(&EvaluatorName::Supernet);
        if let Some(e) = evaluator
            .iter()
            .find(|e| **e == EvaluatorName::Supernet || e.proxy().is_some_and(|p| p.needs_data()))
            && self.dataset.is_none()
        {
            let name = clap::ValueEnum::to_possible_value(e)
                .map_or_else(String::new, |v| v.get_name().to_string());
            return Err(CliError::usage(format!(
                "--evaluator {name} needs --dataset (the images it reads)"
            )));
        }
        let downsample = match self.downsample {
            Some(d) => d,
            None => {
                let dir = truth.parent().unwrap_or_else(|| std::path::Path::new("."));
                GroundTruthProtocol::recorded(dir)
                    .map_err(|e| CliError::Input(e.to_string()))?
                    .map_or(1, |p| p.downsample as u64)
            }
        };
        let preset = self.preset.unwrap_or(Preset::Cpu);
        let base = preset_config(preset);
        let first = base.schedule.stages[0].clone();
        let epochs = self.epochs.unwrap_or(first.epochs as u64);
        let warmup = self.warmup.unwrap_or(first.warmup_epochs as u64);
        if supernet && warmup >= epochs {
            return Err(CliError::usage(format!(
                "--warmup {warmup} must be fewer than --epochs {epochs}"
            )));
        }
        Ok(Self {
            evaluator,
            downsample: Some(downsample),
            preset: Some(preset),
            strategy: Some(self.strategy.clone().unwrap_or(base.strategy)),
            sampling: Some(self.sampling.unwrap_or(base.train.sampling)),
            channels: Some(self.channels.unwrap_or(first.channels as u64)),
            cells: Some(self.cells.unwrap_or(first.cells as u64)),
            epochs: Some(epochs),
            warmup: Some(warmup),
            score_prior: Some(self.score_prior.unwrap_or(if base.score_prior.is_some() {
                ScorePriorName::Params
            } else {
                ScorePriorName::None
            })),
            seed: Some(self.seed.unwrap_or(0)),
            device: Some(self.device.unwrap_or_default()),
            ..self.clone()
        })
    }

    /// The search that trains the supernet: the preset's training and scoring settings
    /// on one stage of every op, with the options applied.
    pub fn supernet_config(&self) -> SearchConfig {
        let mut config = preset_config(self.preset.unwrap_or(Preset::Cpu));
        let first = config.schedule.stages[0].clone();
        let stage = StageConfig {
            drops: vec![0],
            ..first.clone()
        }
        .with_epochs(
            self.epochs.map_or(first.epochs, |e| e as usize),
            self.warmup.map_or(first.warmup_epochs, |w| w as usize),
        );
        let stage = StageConfig {
            cells: self.cells.map_or(first.cells, |c| c as usize),
            ..stage
        }
        .with_channels(self.channels.map_or(first.channels, |c| c as usize));
        config.schedule = ShrinkScheduleConfig::new(vec![stage]);
        if let Some(strategy) = &self.strategy {
            config.strategy = strategy.clone();
        }
        if let Some(spread) = self.stage_spread {
            config.updater = config.updater.clone().with_stage_spread(Some(spread));
        }
        config.seed = self.seed.unwrap_or(0);
        if let Some(prior) = self.score_prior {
            prior.apply(&mut config.score_prior);
        }
        let t = &mut config.train;
        if let Some(dataset) = self.dataset {
            t.augment = t
                .augment
                .clone()
                .with_normalization(Some(dataset.normalization()));
        }
        if let Some(mode) = self.mode {
            t.mode = mode;
        }
        if let Some(p) = self.crop_padding {
            t.augment = t.augment.clone().with_crop_padding(p as usize);
        }
        if let Some(s) = self.sampling {
            t.sampling = s;
        }
        if let Some(bn) = self.score_bn {
            t.score_bn = bn;
        }
        if let Some(m) = self.score_metric {
            t.score_metric = m;
        }
        if let Some(k) = self.score_batches {
            t.score_batches = k as usize;
        }
        if let Some(set) = self.score_set {
            t.score_fixed = set == ScoreSet::Fixed;
        }
        if let Some(b) = self.batch_size {
            t.batch_size = b as usize;
        }
        if let Some(lr) = self.lr {
            t.sgd.lr = lr;
        }
        if let Some(n) = self.alpha_every {
            t.alpha_every = n as usize;
        }
        if let Some(steps) = self.max_steps {
            t.max_steps_per_epoch = Some(steps as usize);
        }
        config
    }

    /// Scores the ground truth with every evaluator and prints the figures.
    ///
    /// # Errors
    /// Any [`CliError`]: bad options, an unreadable ground truth or dataset, a refused
    /// `--out`, a failed supernet search.
    pub fn run(&self) -> Result<(), CliError> {
        let args = self.effective()?;
        with_backend!(args.device.unwrap_or_default(), |B, device| args
            .run_on::<B>(device))
    }

    fn run_on<B: AutodiffBackend>(&self, device: B::Device) -> Result<(), CliError> {
        let Some(path) = &self.truth else {
            return Err(CliError::usage("--truth FILE.csv is required"));
        };
        let _lock = match &self.out {
            Some(out) => Some(OutputFile::open(out, self.force, &[path])?),
            None => None,
        };
        let truth = GroundTruth::read(path).map_err(|e| CliError::Input(e.to_string()))?;
        let space = Nb201Space::new();
        let (cells, archs) = self.ranked_cells(path, &truth, &space)?;
        let accuracy: Vec<f64> = cells.iter().map(|c| c.accuracy).collect();
        print_header_and_ceiling(&truth)?;
        let mut lines = Vec::new();
        let params = if self.plus_params {
            let p = EvaluatorName::Params;
            Some(
                self.scores::<B>(p, path, &space, &cells, &archs, &device)?
                    .1,
            )
        } else {
            None
        };
        for evaluator in &self.evaluator {
            let (name, scores, seconds, selected) =
                self.scores::<B>(*evaluator, path, &space, &cells, &archs, &device)?;
            let line = Line::new(name, &accuracy, scores, seconds, selected)?;
            let combined = match (&params, evaluator) {
                (_, EvaluatorName::Params | EvaluatorName::Macs) | (None, _) => None,
                (Some(p), _) => Some(Line::new(
                    format!("{} + params (rank mean)", line.evaluator),
                    &accuracy,
                    rank_mean(&[&line.scores, p]),
                    seconds,
                    None,
                )?),
            };
            lines.push(line);
            lines.extend(combined);
        }
        if let Some(out) = &self.out {
            let doc = json!({
                "truth": path.display().to_string(),
                "archs": cells.iter().map(|c| &c.arch).collect::<Vec<_>>(),
                "accuracy": accuracy,
                "options": self,
                "evaluators": lines,
            });
            let text =
                serde_json::to_string_pretty(&doc).map_err(|e| CliError::Input(e.to_string()))?;
            crate::atomic_write::write(out, text.as_bytes())
                .map_err(|e| CliError::Input(format!("{}: {e}", out.display())))?;
        }
        Ok(())
    }

    /// The ground truth's cells (the first `--limit`, at least two) and their
    /// architectures in `space`.
    fn ranked_cells(
        &self,
        path: &Path,
        truth: &GroundTruth,
        space: &Nb201Space,
    ) -> Result<(Vec<TruthCell>, Vec<Architecture>), CliError> {
        let mut cells = truth.cells();
        if let Some(n) = self.limit {
            cells.truncate(n as usize);
        }
        if cells.len() < 2 {
            return Err(CliError::Input(format!(
                "{}: {} architecture(s), at least 2 are needed to rank",
                path.display(),
                cells.len()
            )));
        }
        let archs = cells
            .iter()
            .map(|c| {
                space.parse(&c.arch).map_err(|e| {
                    CliError::Input(format!(
                        "{}: architecture `{}`: {e}",
                        path.display(),
                        c.arch
                    ))
                })
            })
            .collect::<Result<Vec<Architecture>, _>>()?;
        Ok((cells, archs))
    }

    /// One evaluator's name, scores of `archs` (the ground truth's `cells`, read from
    /// `path`), seconds, and the supernet search's final architecture.
    fn scores<B: AutodiffBackend>(
        &self,
        evaluator: EvaluatorName,
        path: &Path,
        space: &Nb201Space,
        cells: &[TruthCell],
        archs: &[Architecture],
        device: &B::Device,
    ) -> Result<(String, Vec<f64>, f64, Option<String>), CliError> {
        let started = Instant::now();
        Ok(match evaluator {
            EvaluatorName::Params => (
                "params".to_string(),
                cells.iter().map(|c| c.params as f64).collect::<Vec<_>>(),
                started.elapsed().as_secs_f64(),
                None,
            ),
            EvaluatorName::Macs => (
                "macs".to_string(),
                cells.iter().map(|c| c.macs as f64).collect(),
                started.elapsed().as_secs_f64(),
                None,
            ),
            EvaluatorName::Supernet => self.supernet::<B>(space, archs.to_vec(), device.clone())?,
            e => {
                let proxy = e.proxy().ok_or_else(|| CliError::usage("not a proxy"))?;
                let scores = self.proxy_scores::<B>(proxy, path, archs, device)?;
                (
                    proxy.to_string(),
                    scores,
                    started.elapsed().as_secs_f64(),
                    None,
                )
            }
        })
    }

    /// What the proxies of `proxy_scores` read and the classes: the input shape and, for
    /// a data-dependent proxy, one training batch of `--proxy-batch` images (normalised,
    /// not augmented); without `--dataset`, Fashion-MNIST's shape at the protocol's size.
    fn proxy_input<B: AutodiffBackend>(
        &self,
        proxy: ZeroCostProxy,
        protocol: &GroundTruthProtocol,
        device: &B::Device,
    ) -> Result<(crate::proxy::ProxyInput<B>, usize), CliError> {
        let Some(dataset) = self.dataset else {
            let side = 28 / protocol.downsample.max(1);
            let input = crate::proxy::ProxyInput {
                shape: [1, side, side],
                batch: None,
            };
            return Ok((input, 10));
        };
        let mut data = dataset.train(self.data_dir.as_deref())?;
        let factor = self.downsample.unwrap_or(1) as usize;
        if factor > 1 {
            data = data.downsample(factor)?;
        }
        let classes = data.num_classes();
        let input = crate::proxy::ProxyInput::from_dataset(
            data,
            Some(dataset.normalization()),
            proxy
                .needs_data()
                .then(|| self.proxy_batch.unwrap_or(64) as usize),
            self.seed.unwrap_or(0),
            device,
        )?;
        Ok((input, classes))
    }

    /// Scores `archs` with `proxy` on the ground truth's network (its protocol.json),
    /// each freshly initialised from `--seed`; data-dependent proxies read one training
    /// batch of `--proxy-batch` images (normalised, not augmented).
    fn proxy_scores<B: AutodiffBackend>(
        &self,
        proxy: ZeroCostProxy,
        truth: &std::path::Path,
        archs: &[Architecture],
        device: &B::Device,
    ) -> Result<Vec<f64>, CliError> {
        let dir = truth.parent().unwrap_or_else(|| std::path::Path::new("."));
        let protocol = GroundTruthProtocol::recorded(dir)
            .map_err(|e| CliError::Input(e.to_string()))?
            .ok_or_else(|| {
                CliError::Input(format!(
                    "{}: no protocol.json beside it (the network the proxies score)",
                    truth.display()
                ))
            })?;
        let seed = self.seed.unwrap_or(0);
        let (input, classes) = self.proxy_input::<B>(proxy, &protocol, device)?;
        let spec = protocol.network(classes, input.shape[0]);
        let scorer = crate::proxy::ProxyScorerConfig::new(proxy)
            .with_seed(seed)
            .init(spec, &Nb201Space::new(), input, device.clone())?;
        let mut scores = Vec::with_capacity(archs.len());
        for arch in archs {
            scores.push(scorer.score(arch).map_err(|e| {
                CliError::Input(format!(
                    "{}: {e}",
                    crate::SearchSpace::describe(&Nb201Space::new(), arch)
                ))
            })?);
        }
        Ok(scores)
    }

    /// Trains the supernet and scores `archs`; returns the line's name, the scores, the
    /// seconds (training and scoring) and the search's final architecture.
    fn supernet<B: AutodiffBackend>(
        &self,
        space: &Nb201Space,
        archs: Vec<Architecture>,
        device: B::Device,
    ) -> Result<(String, Vec<f64>, f64, Option<String>), CliError> {
        let Some(dataset) = self.dataset else {
            return Err(CliError::usage("--evaluator supernet needs --dataset"));
        };
        let mut data = dataset.train(self.data_dir.as_deref())?;
        let factor = self.downsample.unwrap_or(1) as usize;
        if factor > 1 {
            data = data.downsample(factor)?;
        }
        let config = self.supernet_config();
        let n = archs.len();
        let mut bar = crate::observe::ProgressBar::new();
        let got =
            supernet_scores::<B, _>(&config, space.clone(), data, device, archs, &mut [&mut bar])?;
        let scores = got
            .scores
            .iter()
            .enumerate()
            .map(|(i, s)| {
                s.ok_or_else(|| {
                    CliError::Input(format!("cell {i} of {n} was not scored by the supernet"))
                })
            })
            .collect::<Result<Vec<f64>, _>>()?;
        let t = &config.train;
        let name = format!(
            "supernet {} {}{} bn={} k={}{}{} crop={} C{}x{} e{} b{} lr{}{}",
            config.strategy,
            match t.mode {
                TrainMode::Weighted => "weighted",
                TrainMode::SinglePath => "single-path",
            },
            match t.sampling {
                PathSampling::Policy => "",
                PathSampling::Uniform => " uniform",
            },
            match t.score_bn {
                ScoreBn::Running => "running",
                ScoreBn::Batch => "batch",
            },
            t.score_batches,
            if t.score_fixed { " fixed" } else { " rolling" },
            match t.score_metric {
                ScoreMetric::Accuracy => "",
                ScoreMetric::Probability => " prob",
            },
            t.augment.crop_padding,
            config.schedule.stages[0].channels,
            config.schedule.stages[0].cells,
            config.schedule.stages[0].epochs,
            t.batch_size,
            t.sgd.lr,
            if config.score_prior.is_some() {
                " prior=params"
            } else {
                ""
            },
        );
        Ok((
            name,
            scores,
            got.search_seconds + got.score_seconds,
            Some(got.selected),
        ))
    }
}

/// The search configuration of a preset.
fn preset_config(preset: Preset) -> SearchConfig {
    match preset {
        Preset::Paper => SearchConfig::paper(),
        Preset::Quick => SearchConfig::quick(),
        Preset::Cpu => SearchConfig::cpu(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::TrainConfig;

    /// Without options the supernet is the preset's first stage, trained and scored
    /// exactly as the preset says (the options' defaults must not override it).
    #[test]
    fn the_default_supernet_is_the_presets_first_stage() {
        for preset in [Preset::Cpu, Preset::Quick] {
            let args = FidelityArgs {
                truth: Some("truth.csv".into()),
                evaluator: vec![EvaluatorName::Supernet],
                dataset: Some(DatasetName::Sample),
                downsample: Some(2),
                preset: Some(preset),
                ..FidelityArgs::default()
            };
            let got = args.effective().unwrap().supernet_config();
            let want = preset_config(preset);
            let (g, w) = (&got.schedule.stages[0], &want.schedule.stages[0]);
            assert_eq!(
                (g.cells, g.channels, g.epochs, g.warmup_epochs),
                (w.cells, w.channels, w.epochs, w.warmup_epochs),
                "{preset:?}"
            );
            assert_eq!(got.strategy, want.strategy, "{preset:?}");
            let train = TrainConfig {
                augment: want.train.augment.clone(),
                ..got.train.clone()
            };
            assert_eq!(train, want.train, "{preset:?}");
            assert_eq!(
                got.train.augment.crop_padding, want.train.augment.crop_padding,
                "{preset:?}"
            );
        }
    }
}
