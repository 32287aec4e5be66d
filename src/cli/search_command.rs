//! `tnd-nas search`: a supernet search on image data.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::module::AutodiffModule;
use burn::tensor::backend::AutodiffBackend;
use serde::{Deserialize, Serialize};

use super::common::{InSpace, OutputDir};
use super::config_file::ConfigFlags;
use super::program::with_backend;
use super::proxy_objective::{proxy_in_spec, proxy_objective};
use super::{CliError, DatasetName, DeviceName, SpaceName};
use crate::SearchSpace;
use crate::data::ImageDataset;
use crate::network::{BuildNetwork, ImageClassifier};
use crate::objective::{
    Direction, ForwardProbe, LatencyConfig, Macs, Objective, ParamCount, Reward,
    ValidationAccuracy, reward_from_spec,
};
use crate::observe::{JsonlLog, ProgressBar};
use crate::proxy::ProxyInput;
use crate::schedule::ShrinkScheduleConfig;
use crate::scoring::{DataShape, SupernetSpace, TrainableSupernet};
use crate::search::{Search, SearchConfig, TrainMode};
use crate::strategy::StrategyConfig;

/// The reward of a search without `--reward`.
pub const DEFAULT_REWARD: &str = "mnas:target=4.4/3.2/2.5,exponent=-0.3";

/// What `tnd-nas search` writes into `--out`.
pub const SEARCH_OUTPUTS: &[&str] = &[
    "search.jsonl",
    "result.json",
    "genotype.txt",
    "genotype-darts.txt",
    "cells.dot",
    "front.svg",
    "front.png",
    "alpha.svg",
    "alpha.png",
    "curves.svg",
    "curves.png",
    "checkpoint",
    "checkpoint.old",
];

/// The preset search configurations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    /// The paper's schedule and REINFORCE (hours on a GPU): [`SearchConfig::paper`].
    Paper,
    /// Minutes on a CPU, a few hundred images per stage: [`SearchConfig::quick`].
    Quick,
    /// Single-path on a full training set in about 20 minutes on 2 CPU cores:
    /// [`SearchConfig::cpu`].
    Cpu,
}

/// What a supernet's scores are joined with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ScorePriorName {
    /// The parameter count (`SearchConfig::score_prior`, [`crate::scoring::ParamsPrior::new`]).
    Params,
    /// Nothing: the supernet's scores as they are.
    None,
}

impl ScorePriorName {
    /// Sets `prior` accordingly (`params` keeps a prior already there).
    pub fn apply(self, prior: &mut Option<crate::scoring::ParamsPrior>) {
        match self {
            ScorePriorName::Params => *prior = Some(prior.unwrap_or_default()),
            ScorePriorName::None => *prior = None,
        }
    }
}

/// Options of `tnd-nas search` (and of the `cifar_search` example).
///
/// Objectives (`--objective`, repeatable; default `acc` and `params`): `acc` (supernet
/// validation accuracy, %, max), `params` (evaluation-network parameters, millions,
/// min), `macs` (millions, min), `latency` (ms of one CPU forward pass at batch 1, min),
/// and the zero-cost proxies `synflow`, `naswot`, `grad-norm`, `snip` and `zero-cost`
/// (max; each architecture's evaluation network freshly initialised from the seed, the
/// data-dependent ones reading one batch of 64 training images); `zero-cost`, standardised
/// around 0, is the one to weigh beside accuracy (for example `--objective acc
/// --objective zero-cost --reward sum:1,1`).
/// The evaluation network the costs measure is the space's: NetworkCIFAR with C = 36 and
/// 20 cells (`tnd`, `darts`), the NAS-Bench-201 network with C = 16 and 5 cells per
/// stage (`nb201`), the MobileNetV2 chain at width 1 (`mbconv`).
///
/// The presets' schedules are written for the TND op sets; with another `--space` each
/// stage keeps its depth, width and epochs and takes the space's drop counts (`darts`:
/// 8 -> 5 -> 3 -> 1, `nb201`: 5 -> 3 -> 2 -> 1, `mbconv`: 6/7 -> 4 -> 2 -> 1); `paper`
/// takes the space's whole schedule.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
#[command(
    after_help = "Outputs in --out: search.jsonl, result.json, genotype.txt \
    (genotype-darts.txt when a DARTS form exists), cells.dot, front/alpha/curves .svg and \
    .png, checkpoint/ (continue with --resume). See docs/outputs.md."
)]
pub struct SearchArgs {
    /// The images to search on
    #[arg(long, value_enum)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<DatasetName>,
    /// The search space [default: tnd]
    #[arg(long, value_enum)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub space: Option<SpaceName>,
    /// Folder of the dataset's files (not needed for `sample`)
    #[arg(long, value_name = "DIR")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// Output folder (created; refused if it holds an earlier search unless --force or --resume)
    #[arg(long, value_name = "DIR")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out: Option<PathBuf>,
    /// Preset search configuration [default: paper]
    #[arg(long, value_enum)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<Preset>,
    /// Where to compute [default: cpu]
    #[arg(long, value_enum)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<DeviceName>,
    /// Seed of everything random [default: 0]
    #[arg(long)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Continue the search checkpointed in --out
    #[arg(long, conflicts_with = "force")]
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub resume: bool,
    /// Replace an earlier search's outputs in --out
    #[arg(long)]
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub force: bool,
    /// An objective: acc, params, macs, latency, or a proxy: synflow, naswot, grad-norm,
    /// snip, zero-cost (repeat for several)
    #[arg(long, value_name = "NAME", value_parser = [
        "acc", "params", "macs", "latency", "synflow", "naswot", "grad-norm", "snip", "zero-cost"
    ])]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objective: Vec<String>,
    /// The reward, e.g. mnas:target=4.4/3.2/2.5,exponent=-0.3 (default), hard:limit=3,
    /// sum:1,10, chebyshev:1,1, front or front:K
    #[arg(long, value_name = "SPEC")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reward: Option<String>,
    /// How the supernet weights train (default: the preset's)
    #[arg(long, value_enum)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<TrainMode>,
    /// At most this many weight steps per epoch
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_steps: Option<u64>,
    /// What to try next: tnd (default), random, rea, rea:population=P,tournament=S, ls
    /// (local search) or ls:init=N
    #[arg(long, value_name = "STRATEGY")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<StrategyConfig>,
    /// Join each supernet score with the architecture's parameter count (params) or
    /// not (none) [default: the preset's: params for quick and cpu, none for paper]
    #[arg(long, value_enum)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score_prior: Option<ScorePriorName>,
    /// Shrink the images by this factor first (2: 28x28 -> 14x14)
    #[arg(long, value_name = "FACTOR", value_parser = clap::value_parser!(u64).range(1..))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub downsample: Option<u64>,
    /// The whole search configuration (config files only; `--print-config` fills it in,
    /// and then --preset must not be given).
    #[arg(skip)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<SearchConfig>,
    #[command(flatten)]
    #[serde(skip)]
    #[allow(missing_docs)]
    pub flags: ConfigFlags,
}

impl SearchArgs {
    /// The options with every default filled in and the search configuration resolved
    /// (preset, seed, mode, steps and strategy folded into `search`).
    ///
    /// # Errors
    /// [`CliError::Usage`] for a missing `--dataset` or `--out`, or `--preset` beside a
    /// `search` table.
    pub fn effective(&self) -> Result<Self, CliError> {
        let dataset = self.dataset.ok_or_else(|| {
            CliError::usage("--dataset is required (cifar10, cifar100, fashion-mnist or sample)")
        })?;
        if self.out.is_none() {
            return Err(CliError::usage("--out DIR is required"));
        }
        let space = self.space.unwrap_or_default();
        let mut search = match (&self.search, self.preset) {
            (Some(_), Some(_)) => {
                return Err(CliError::usage(
                    "--preset and the config file's `search` table both set the search \
                     configuration: give one",
                ));
            }
            (Some(s), None) => s.clone(),
            (None, preset) => {
                let preset = preset.unwrap_or(Preset::Paper);
                let mut s = match preset {
                    Preset::Paper => SearchConfig::paper(),
                    Preset::Quick => SearchConfig::quick(),
                    Preset::Cpu => SearchConfig::cpu(),
                };
                s.schedule = schedule_for(space, preset, s.schedule);
                s.train.augment = s
                    .train
                    .augment
                    .clone()
                    .with_normalization(Some(dataset.normalization()));
                s
            }
        };
        if let Some(seed) = self.seed {
            search.seed = seed;
        }
        if let Some(mode) = self.mode {
            search.train.mode = mode;
        }
        if let Some(steps) = self.max_steps {
            search.train.max_steps_per_epoch = Some(steps as usize);
        }
        if let Some(strategy) = &self.strategy {
            search.strategy = strategy.clone();
        }
        if let Some(prior) = self.score_prior {
            prior.apply(&mut search.score_prior);
        }
        Ok(Self {
            dataset: Some(dataset),
            space: Some(space),
            device: Some(self.device.unwrap_or_default()),
            objective: if self.objective.is_empty() {
                vec!["acc".into(), "params".into()]
            } else {
                self.objective.clone()
            },
            reward: Some(self.reward.clone().unwrap_or_else(|| DEFAULT_REWARD.into())),
            preset: None,
            seed: None,
            mode: None,
            max_steps: None,
            strategy: None,
            score_prior: None,
            search: Some(search),
            ..self.clone()
        })
    }

    /// Runs the search and writes its outputs.
    ///
    /// # Errors
    /// Any [`CliError`]: bad options, unreadable data, a refused output folder, a failed
    /// search.
    pub fn run(&self) -> Result<(), CliError> {
        let args = self.effective()?;
        with_backend!(args.device.unwrap_or_default(), |B, device| args
            .run_on::<B>(device))
    }

    fn run_on<B: AutodiffBackend>(&self, device: B::Device) -> Result<(), CliError> {
        let Some(dataset) = self.dataset else {
            return Err(CliError::usage("--dataset is required"));
        };
        let mut data: ImageDataset = dataset.train(self.data_dir.as_deref())?;
        if let Some(factor) = self.downsample {
            data = data.downsample(factor as usize)?;
        }
        let shape = DataShape {
            classes: data.num_classes(),
            channels: data.channels(),
            height: data.height(),
            width: data.width(),
        };
        self.space.unwrap_or_default().run(
            shape.classes,
            shape.channels,
            SearchIn::<B> {
                args: self,
                data,
                device,
            },
        )
    }

    /// The search in `space`, its objectives measuring `network`.
    fn search_in<B, S, N>(
        &self,
        space: S,
        network: N,
        data: ImageDataset,
        device: B::Device,
    ) -> Result<(), CliError>
    where
        B: AutodiffBackend,
        S: SupernetSpace,
        S::Supernet<B>: TrainableSupernet<B>,
        N: BuildNetwork + Clone + 'static,
        N::Network<B>: AutodiffModule<B>,
        <N::Network<B> as AutodiffModule<B>>::InnerModule: ImageClassifier<B::InnerBackend>,
    {
        let (Some(out), Some(config)) = (&self.out, &self.search) else {
            return Err(CliError::usage("--dataset and --out are required"));
        };
        let objectives = self.objectives::<B, N>(&space, &network, &data, config.seed, &device)?;
        let reward = self.reward(&objectives)?;
        // Everything is validated before the output folder is touched.
        let search = Search::builder(space)
            .objectives(objectives)
            .reward(reward)
            .build::<B>(config.clone(), data, device)?
            .with_network(Arc::new(network));
        self.run_search(search, out)
    }

    /// The objectives of `--objective`, in order; a proxy scores `network`'s networks of
    /// `space`, initialised from `seed`.
    fn objectives<B, N>(
        &self,
        space: &dyn SearchSpace,
        network: &N,
        data: &ImageDataset,
        seed: u64,
        device: &B::Device,
    ) -> Result<Vec<Box<dyn Objective>>, CliError>
    where
        B: AutodiffBackend,
        N: BuildNetwork + Clone + 'static,
        N::Network<B>: AutodiffModule<B>,
        <N::Network<B> as AutodiffModule<B>>::InnerModule: ImageClassifier<B::InnerBackend>,
    {
        let side = data.height();
        // What the proxy objectives read, built once: the image shape and, when one of
        // them reads data, one batch (the dataset is cloned only then).
        let mut proxies = Vec::with_capacity(self.objective.len());
        for name in &self.objective {
            proxies.push(proxy_in_spec(name)?);
        }
        let input = if proxies.iter().flatten().any(|p| p.needs_data()) {
            let normalization = self.dataset.map(|d| d.normalization());
            ProxyInput::from_dataset(data.clone(), normalization, Some(PROXY_BATCH), seed, device)?
        } else {
            ProxyInput {
                shape: [data.channels(), data.height(), data.width()],
                batch: None,
            }
        };
        let mut objectives = Vec::with_capacity(self.objective.len());
        for (name, proxy) in self.objective.iter().zip(proxies) {
            objectives.push(match proxy {
                Some(proxy) => proxy_objective(
                    proxy,
                    network.clone(),
                    space,
                    input.clone(),
                    seed,
                    device.clone(),
                    HashMap::new(),
                )?,
                None => objective(name, side, network)?,
            });
        }
        Ok(objectives)
    }

    /// The reward of `--reward` (or [`DEFAULT_REWARD`]) over `objectives`, with an ideal
    /// of 100 for a maximised objective and 0 for a minimised one.
    fn reward(&self, objectives: &[Box<dyn Objective>]) -> Result<Box<dyn Reward>, CliError> {
        let directions: Vec<Direction> = objectives.iter().map(|o| o.direction()).collect();
        let ideal: Vec<f64> = directions
            .iter()
            .map(|d| {
                if *d == Direction::Maximise {
                    100.0
                } else {
                    0.0
                }
            })
            .collect();
        Ok(reward_from_spec(
            self.reward.as_deref().unwrap_or(DEFAULT_REWARD),
            &directions,
            &ideal,
        )?)
    }

    /// Runs `search` (resumed from `out` with `--resume`), logging and checkpointing
    /// into `out`, and writes its result and plots there.
    fn run_search(&self, search: Search, out: &Path) -> Result<(), CliError> {
        let dir = OutputDir::open(out, SEARCH_OUTPUTS, self.resume, self.force)?;
        let checkpoint = dir.path().join("checkpoint");
        let mut search = if self.resume {
            search.resume_from(&checkpoint)?
        } else {
            search.with_checkpoint_dir(&checkpoint)
        };
        // A resumed log is cut back to the checkpoint's record: steps replayed since
        // are logged once, and a line a crash cut short goes.
        let log_path = dir.path().join("search.jsonl");
        let mut log = if self.resume {
            JsonlLog::resume(&log_path, search.state().checkpoints)?
        } else {
            JsonlLog::create(&log_path)?
        };
        let mut bar = ProgressBar::new();
        let result = search.run(&mut [&mut bar, &mut log])?;
        result.write_to(dir.path())?;
        for skipped in crate::plot::write_plots(dir.path())?.skipped {
            eprintln!("no {}: {}", skipped.path.display(), skipped.reason);
        }
        println!("{}", result.final_architecture.text);
        eprintln!("outputs in {}", dir.path().display());
        Ok(())
    }
}

/// Images in the batch a data-dependent proxy objective reads.
const PROXY_BATCH: usize = 64;

/// A preset's schedule for `space`: the preset's stages with the space's drop counts
/// (and, for `paper`, the space's whole schedule).
fn schedule_for(
    space: SpaceName,
    preset: Preset,
    schedule: ShrinkScheduleConfig,
) -> ShrinkScheduleConfig {
    let own = match space {
        SpaceName::Tnd => return schedule,
        SpaceName::Darts => ShrinkScheduleConfig::paper_darts(),
        SpaceName::Nb201 => ShrinkScheduleConfig::nb201(),
        SpaceName::Mbconv => ShrinkScheduleConfig::mbconv(),
    };
    if preset == Preset::Paper {
        return own;
    }
    let stages = schedule
        .stages
        .iter()
        .zip(&own.stages)
        .map(|(mine, theirs)| crate::schedule::StageConfig {
            drops: theirs.drops.clone(),
            cells: if space == SpaceName::Mbconv {
                theirs.cells
            } else {
                mine.cells
            },
            ..mine.clone()
        })
        .collect();
    ShrinkScheduleConfig { stages, ..schedule }
}

fn objective<N: BuildNetwork + Clone + 'static>(
    name: &str,
    input: usize,
    network: &N,
) -> Result<Box<dyn Objective>, CliError> {
    Ok(match name {
        "acc" => Box::new(ValidationAccuracy::new()),
        "params" => Box::new(ParamCount::new().in_millions()),
        "macs" => Box::new(Macs::new(input).in_millions()),
        "latency" => Box::new(LatencyConfig::new().with_warmup(2).with_runs(5).init(
            ForwardProbe::<burn::backend::Flex, _>::new(
                network.clone(),
                Default::default(),
                1,
                input,
            )?,
        )?),
        other => {
            return Err(CliError::usage(format!(
                "unknown objective `{other}` (expected acc, params, macs or latency)"
            )));
        }
    })
}

/// `tnd-nas search` in the space [`SpaceName::run`] hands it.
struct SearchIn<'a, B: AutodiffBackend> {
    args: &'a SearchArgs,
    data: ImageDataset,
    device: B::Device,
}

impl<B: AutodiffBackend> InSpace<B> for SearchIn<'_, B> {
    fn run<S, N>(self, space: S, network: N) -> Result<(), CliError>
    where
        S: SupernetSpace,
        S::Supernet<B>: TrainableSupernet<B>,
        N: BuildNetwork + Clone + 'static,
        N::Network<B>: AutodiffModule<B>,
        <N::Network<B> as AutodiffModule<B>>::InnerModule: ImageClassifier<B::InnerBackend>,
    {
        self.args
            .search_in::<B, S, N>(space, network, self.data, self.device)
    }
}
