//! `tnd-nas tabular`: a search of a benchmark table (NAS-Bench-201 bundled).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use burn::module::AutodiffModule;
use burn::tensor::backend::AutodiffBackend;

use super::common::{InSpace, OutputFile};
use super::config_file::ConfigFlags;
use super::program::with_backend;
use super::proxy_objective::{
    PROXY_OBJECTIVES, bundled_nb201_synflow, proxy_in_spec, proxy_input, proxy_objective,
};
use super::retrain_command::positive_finite;
use super::{CliError, DatasetName, DeviceName, SpaceName};
use crate::SearchSpace;
use crate::network::{BuildNetwork, ImageClassifier};
use crate::objective::{
    Direction, Macs, NB201_ARCH_COLUMN, NB201_CIFAR10_ACCURACY, Objective, ParamCount, Reward,
    Tabular, TabularTable, WeightedSum, reward_from_spec,
};
use crate::policy::UpdaterConfig;
use crate::proxy::{ProxyInput, ZeroCostProxy};
use crate::schedule::ShrinkScheduleConfig;
use crate::scoring::{SupernetSpace, TrainableSupernet};
use crate::search::{SampleRecord, Search, SearchResult, TableSearchConfig};
use crate::spaces::nb201::Nb201Space;
use crate::strategy::StrategyConfig;

/// The REINFORCE settings to start from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum UpdaterName {
    /// Rank advantages, a step size tied to the stage's planned updates.
    Default,
    /// The paper's REINFORCE: moving baseline, Adam lr 1e-2.
    Paper,
}

/// The shrinking schedule of a table search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ScheduleName {
    /// One stage, all but one op dropped at its end.
    One,
    /// Three stages dropping 2, 1, 1 ops per edge.
    Nb201,
}

/// Options of `tnd-nas tabular` (and of the `tabular_search` example): a search scored
/// without training any network (table lookups, counts, zero-cost proxies).
///
/// Without `--table` the bundled NAS-Bench-201 CIFAR-10 table is searched and the
/// objective defaults to its accuracy, `table:cifar10_test_acc_200ep:max`. Objectives:
/// `table:COLUMN:max|min` (a numeric column), `params:min` / `macs:min` (millions), and
/// the zero-cost proxies `synflow`, `naswot`, `grad-norm`, `snip` and `zero-cost`
/// (`:max`), each scored on the architecture's freshly initialised network (seed
/// `--proxy-seed`); naswot, grad-norm and snip read one batch of `--dataset`. The
/// networks: NAS-Bench-201's at C = 16, 5 cells per stage (`--space nb201`, the default);
/// NetworkCIFAR at C = 36 with 20 cells (`tnd`, `darts`); MobileNetV2 (`mbconv`); with 10
/// classes and 3x32x32 images, or `--dataset`'s. Only `nb201` has a table; a search of
/// another space is a zero-training search of proxies and counts. synflow and zero-cost of
/// the default NAS-Bench-201 network at seed 0 on the CPU read the bundled scores
/// (`data/nb201/synflow-seed0.csv.gz`) instead of building each network. `--budget`
/// counts distinct architectures scored.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
#[command(
    after_help = "Writes --out (JSON): best and final (arch and objectives), front, \
    hypervolume (two or more objectives), stages."
)]
pub struct TabularArgs {
    /// The space to search: nb201 (the default; the only one with a table), tnd, darts,
    /// mbconv
    #[arg(long, value_enum)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub space: Option<SpaceName>,
    /// A CSV table of architectures (default: the bundled NAS-Bench-201 CIFAR-10 table)
    #[arg(long, value_name = "FILE.csv")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<PathBuf>,
    /// The table's column of NAS-Bench-201 strings (required with --table)
    #[arg(long, value_name = "NAME")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch_column: Option<String>,
    /// An objective: table:COLUMN:max|min, params:min, macs:min, or a proxy (synflow,
    /// naswot, grad-norm, snip, zero-cost; :max) (repeat for several)
    #[arg(long, value_name = "SPEC")]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objective: Vec<String>,
    /// The reward: mnas:target=T,exponent=W | sum:W1,W2 | chebyshev:W1,W2 | hard:limit=L |
    /// front or front:K (one objective: the objective itself)
    #[arg(long, value_name = "SPEC")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reward: Option<String>,
    /// tnd (default), random, rea, rea:population=P,tournament=S, ls
    /// (local search) or ls:init=N
    #[arg(long, value_name = "STRATEGY")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<StrategyConfig>,
    /// The REINFORCE settings [default: default]
    #[arg(long, value_enum)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updater: Option<UpdaterName>,
    /// The shrinking schedule [default: one]
    #[arg(long, value_enum)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<ScheduleName>,
    /// A fixed Adam learning rate (no stage spread)
    #[arg(long, value_parser = positive_finite)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lr: Option<f64>,
    /// The stage spread: alpha moves about D logits per stage
    #[arg(long, value_name = "D", value_parser = positive_finite)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spread: Option<f64>,
    /// Samples per update
    #[arg(long, value_name = "M", value_parser = clap::value_parser!(u64).range(1..=100_000))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples: Option<u64>,
    /// Distinct architectures to score
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<u64>,
    /// Seed
    #[arg(long, value_name = "S")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The images the proxies read (naswot, grad-norm and snip: one batch of its training
    /// split); also sets the networks' input and classes [default: 3x32x32, 10 classes]
    #[arg(long, value_enum)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<DatasetName>,
    /// Folder of the dataset's files (not needed for `sample`)
    #[arg(long, value_name = "DIR")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// Images in the batch of a data-dependent proxy [default: 64]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(2..=4096))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_batch: Option<u64>,
    /// Seed of the proxies' networks and batch [default: 0]
    #[arg(long, value_name = "S")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_seed: Option<u64>,
    /// Where the proxies compute [default: cpu]
    #[arg(long, value_enum)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<DeviceName>,
    /// The result file (JSON); refused if it exists unless --force
    #[arg(long, value_name = "result.json")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out: Option<PathBuf>,
    /// Replace an existing --out file
    #[arg(long)]
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub force: bool,
    #[command(flatten)]
    #[serde(skip)]
    #[allow(missing_docs)]
    pub flags: ConfigFlags,
}

impl TabularArgs {
    /// The options with every default filled in.
    ///
    /// # Errors
    /// [`CliError::Usage`] for missing or conflicting options.
    pub fn effective(&self) -> Result<Self, CliError> {
        let mut a = self.clone();
        let space = *a.space.get_or_insert(SpaceName::Nb201);
        if space != SpaceName::Nb201 {
            if a.table.is_some() {
                return Err(CliError::usage(format!(
                    "--table is a NAS-Bench-201 table: it cannot be searched with --space {}",
                    space.as_str()
                )));
            }
            if a.objective.is_empty() {
                return Err(CliError::usage(format!(
                    "--space {} has no table: give an --objective (a proxy, params or macs)",
                    space.as_str()
                )));
            }
        }
        if a.table.is_none() && a.objective.is_empty() {
            a.objective
                .push(format!("table:{NB201_CIFAR10_ACCURACY}:max"));
        }
        if a.objective.is_empty() {
            return Err(CliError::usage("at least one --objective is needed"));
        }
        match (&a.table, &a.arch_column) {
            (None, Some(_)) => {
                return Err(CliError::usage(format!(
                    "--arch-column needs --table (the bundled table's column is `{NB201_ARCH_COLUMN}`)"
                )));
            }
            (Some(_), None) => {
                return Err(CliError::usage(
                    "--arch-column NAME is required with --table",
                ));
            }
            _ => {}
        }
        if a.budget.is_none() {
            return Err(CliError::usage("--budget N is required"));
        }
        if a.seed.is_none() {
            return Err(CliError::usage("--seed S is required"));
        }
        if a.out.is_none() {
            return Err(CliError::usage("--out result.json is required"));
        }
        for (i, spec) in a.objective.iter().enumerate() {
            if let Some(proxy) = proxy_in_spec(spec)? {
                if proxy.needs_data() && a.dataset.is_none() {
                    return Err(CliError::usage(format!(
                        "--objective {spec} reads a batch of images: give --dataset"
                    )));
                }
                if a.objective[..i]
                    .iter()
                    .any(|o| proxy_in_spec(o).ok().flatten() == Some(proxy))
                {
                    return Err(CliError::usage(format!(
                        "--objective {proxy} is given twice"
                    )));
                }
            }
        }
        a.proxy_seed.get_or_insert(0);
        a.device.get_or_insert_default();
        a.strategy.get_or_insert(StrategyConfig::Tnd);
        a.updater.get_or_insert(UpdaterName::Default);
        a.schedule.get_or_insert(ScheduleName::One);
        Ok(a)
    }

    /// Runs the search and writes the result file.
    ///
    /// # Errors
    /// Any [`CliError`].
    pub fn run(&self) -> Result<(), CliError> {
        let args = self.effective()?;
        with_backend!(args.device.unwrap_or_default(), |B, device| args
            .run_on::<B>(device))
    }

    fn run_on<B: AutodiffBackend>(&self, device: B::Device) -> Result<(), CliError> {
        let Some(out) = &self.out else {
            return Err(CliError::usage("--out is required"));
        };
        let inputs: Vec<&std::path::Path> = self.table.iter().map(|t| t.as_path()).collect();
        let _lock = OutputFile::open(out, self.force, &inputs)?;
        let (input, classes) = self.proxy_input::<B>(&device)?;
        let channels = input.shape[0];
        self.space.unwrap_or(SpaceName::Nb201).run(
            classes,
            channels,
            TabularIn::<B> {
                args: self,
                input,
                device,
            },
        )
    }

    /// What the proxies read (the input shape and, for a data-dependent proxy, one
    /// training batch) and the number of classes.
    fn proxy_input<B: AutodiffBackend>(
        &self,
        device: &B::Device,
    ) -> Result<(ProxyInput<B>, usize), CliError> {
        let needs_data = self.objective.iter().any(|o| {
            proxy_in_spec(o)
                .ok()
                .flatten()
                .is_some_and(|p| p.needs_data())
        });
        proxy_input(
            self.dataset,
            self.data_dir.as_deref(),
            needs_data.then(|| self.proxy_batch.unwrap_or(64) as usize),
            self.proxy_seed.unwrap_or(0),
            device,
        )
    }

    /// The search of `space`, the objectives measuring `network`.
    fn search_in<B, S, N>(
        &self,
        space: S,
        network: N,
        input: ProxyInput<B>,
        device: B::Device,
    ) -> Result<(), CliError>
    where
        B: AutodiffBackend,
        S: SearchSpace + Clone + 'static,
        N: BuildNetwork + Clone + 'static,
        N::Network<B>: AutodiffModule<B>,
        <N::Network<B> as AutodiffModule<B>>::InnerModule: ImageClassifier<B::InnerBackend>,
    {
        let args = self;
        let (Some(budget), Some(seed), Some(out)) = (args.budget, args.seed, &args.out) else {
            return Err(CliError::usage("--budget, --seed and --out are required"));
        };
        let nb201 = args.space.unwrap_or(SpaceName::Nb201) == SpaceName::Nb201;
        let table = self.benchmark_table(nb201)?;
        let (objectives, ideal) =
            self.objectives(&space, &network, table.as_ref(), &input, &device, nb201)?;
        let directions: Vec<Direction> = objectives.iter().map(|o| o.direction()).collect();
        let reward = reward(args.reward.as_deref(), &directions, ideal)?;
        let mut search = Search::builder(space)
            .objectives(objectives)
            .reward(reward)
            .build_table(self.search_config(budget, seed))?
            .with_network(Arc::new(network));
        let result = search.run(&mut [])?;
        let text = serde_json::to_string_pretty(&to_json(&result, budget, seed))
            .map_err(|e| CliError::Input(format!("cannot serialise the result: {e}")))?;
        write_new(out, &(text + "\n"))?;
        println!(
            "{} search, {} samples: {} ({})",
            result.strategy,
            result.sample_count,
            result.final_architecture.text,
            result
                .objectives
                .iter()
                .zip(&result.final_values)
                .map(|(n, v)| match v {
                    Some(v) => format!("{n} = {v:.4}"),
                    None => format!("{n} = ?"),
                })
                .collect::<Vec<_>>()
                .join(", ")
        );
        Ok(())
    }

    /// The benchmark table the objectives may read: `--table`, or the bundled
    /// NAS-Bench-201 table for that space (`nb201`); its architectures checked.
    fn benchmark_table(&self, nb201: bool) -> Result<Option<Arc<TabularTable>>, CliError> {
        let column = self.arch_column.as_deref().unwrap_or(NB201_ARCH_COLUMN);
        let table = match (&self.table, nb201) {
            (Some(path), _) => Some(Arc::new(TabularTable::from_path(path, column)?)),
            (None, true) => Some(Arc::new(TabularTable::nb201_cifar10()?)),
            (None, false) => None,
        };
        if let Some(table) = &table {
            check_arch_strings(table, &Nb201Space::new())?;
        }
        Ok(table)
    }

    /// The objectives of `--objective`, in order, and their Chebyshev ideal values; a
    /// proxy scores `network`'s networks of `space` (from the bundled scores where they
    /// are those of this network: `nb201`, no dataset, proxy seed 0, on the CPU).
    fn objectives<B, S, N>(
        &self,
        space: &S,
        network: &N,
        table: Option<&Arc<TabularTable>>,
        input: &ProxyInput<B>,
        device: &B::Device,
        nb201: bool,
    ) -> Result<ObjectivesAndIdeal, CliError>
    where
        B: AutodiffBackend,
        S: SearchSpace + Clone + 'static,
        N: BuildNetwork + Clone + 'static,
        N::Network<B>: AutodiffModule<B>,
        <N::Network<B> as AutodiffModule<B>>::InnerModule: ImageClassifier<B::InnerBackend>,
    {
        let proxy_seed = self.proxy_seed.unwrap_or(0);
        // The bundled synflow scores are those of this very network, seed and backend.
        let bundled = nb201
            && self.dataset.is_none()
            && proxy_seed == 0
            && self.device.unwrap_or_default() == DeviceName::Cpu;
        let mut objectives = Vec::new();
        let mut ideal = Vec::new();
        for spec in &self.objective {
            if let Some(proxy) = proxy_in_spec(spec)? {
                let known = if bundled
                    && matches!(proxy, ZeroCostProxy::Synflow | ZeroCostProxy::ZeroCost)
                {
                    bundled_nb201_synflow(space)?
                } else {
                    HashMap::new()
                };
                objectives.push(proxy_objective(
                    proxy,
                    network.clone(),
                    space,
                    input.clone(),
                    proxy_seed,
                    device.clone(),
                    known,
                )?);
                // Chebyshev's ideal only shifts a proxy's term: 0 for every proxy.
                ideal.push(0.0);
                continue;
            }
            let (o, z) = objective(spec, table, input.shape[1])?;
            objectives.push(o);
            ideal.push(z);
        }
        Ok((objectives, ideal))
    }

    /// The table search's settings: `--budget` and `--seed`, the strategy, the schedule
    /// and the updater's settings.
    fn search_config(&self, budget: u64, seed: u64) -> TableSearchConfig {
        let updater = match self.updater.unwrap_or(UpdaterName::Default) {
            UpdaterName::Default => UpdaterConfig::new(),
            UpdaterName::Paper => UpdaterConfig::paper(),
        };
        let mut cfg = TableSearchConfig::new(budget as usize)
            .with_strategy(self.strategy.clone().unwrap_or_default())
            .with_seed(seed)
            .with_updater(updater);
        cfg.schedule = match self.schedule.unwrap_or(ScheduleName::One) {
            ScheduleName::One => None,
            ScheduleName::Nb201 => Some(ShrinkScheduleConfig::nb201()),
        };
        if let Some(lr) = self.lr {
            cfg.updater = cfg.updater.with_lr(lr).with_stage_spread(None);
        }
        if let Some(spread) = self.spread {
            cfg.updater = cfg.updater.with_stage_spread(Some(spread));
        }
        if let Some(m) = self.samples {
            cfg.updater = cfg.updater.with_samples(m as usize);
        }
        cfg
    }
}

/// Objectives, in order, and their Chebyshev ideal values.
type ObjectivesAndIdeal = (Vec<Box<dyn Objective>>, Vec<f64>);

/// Writes `text` to `path` through a temporary file and a rename.
fn write_new(path: &std::path::Path, text: &str) -> Result<(), CliError> {
    crate::atomic_write::write(path, text.as_bytes()).map_err(|e| CliError::io(path, e))
}

/// An objective and its Chebyshev ideal value.
fn objective(
    spec: &str,
    table: Option<&Arc<TabularTable>>,
    input: usize,
) -> Result<(Box<dyn Objective>, f64), CliError> {
    let parts: Vec<&str> = spec.split(':').collect();
    let minimised = |what: &str, dir: Option<&&str>| -> Result<(), CliError> {
        match dir {
            None => Ok(()),
            Some(d) if d.parse::<Direction>()? == Direction::Minimise => Ok(()),
            Some(_) => Err(CliError::usage(format!(
                "--objective `{what}` can only be minimised (`{what}:min`)"
            ))),
        }
    };
    match parts.as_slice() {
        ["table", column, dir] => {
            let Some(table) = table else {
                return Err(CliError::usage(format!(
                    "--objective `{spec}` reads a table: this space has none"
                )));
            };
            let t = Tabular::new(table.clone(), column, dir.parse()?)?;
            let ideal = t.best().unwrap_or(0.0);
            Ok((Box::new(t), ideal))
        }
        ["params", rest @ ..] if rest.len() <= 1 => {
            minimised("params", rest.first())?;
            Ok((Box::new(ParamCount::new().in_millions()), 0.0))
        }
        ["macs", rest @ ..] if rest.len() <= 1 => {
            minimised("macs", rest.first())?;
            Ok((Box::new(Macs::new(input).in_millions()), 0.0))
        }
        _ => Err(CliError::usage(format!(
            "bad --objective `{spec}` (expected table:COLUMN:max|min, params:min, macs:min \
             or a proxy: {PROXY_OBJECTIVES})"
        ))),
    }
}

fn reward(
    spec: Option<&str>,
    directions: &[Direction],
    ideal: Vec<f64>,
) -> Result<Box<dyn Reward>, CliError> {
    let Some(spec) = spec else {
        if directions.len() != 1 {
            return Err(CliError::usage("several objectives need a --reward"));
        }
        return Ok(Box::new(WeightedSum::new(vec![1.0])?));
    };
    Ok(reward_from_spec(spec, directions, &ideal)?)
}

/// Checks that every architecture string of the table is an NB201 string written the
/// way the space writes it (otherwise lookups would fail later with less context).
fn check_arch_strings(table: &TabularTable, space: &Nb201Space) -> Result<(), CliError> {
    let csv = table.csv();
    let c = csv.column(table.arch_column())?;
    for row in csv.rows() {
        let text = &row.fields[c];
        let at = || {
            format!(
                "{}, line {}: column `{}`",
                csv.source(),
                row.line,
                table.arch_column()
            )
        };
        let arch = space
            .parse(text)
            .map_err(|e| CliError::Input(format!("{}: {e}", at())))?;
        if space.describe(&arch) != *text {
            return Err(CliError::Input(format!(
                "{}: `{text}` is not in canonical NAS-Bench-201 form (`{}`)",
                at(),
                space.describe(&arch)
            )));
        }
    }
    Ok(())
}

fn to_json(result: &SearchResult, budget: u64, seed: u64) -> Value {
    let objectives = |values: &[Option<f64>]| -> Value {
        json!(
            result
                .objectives
                .iter()
                .cloned()
                .zip(values.iter().copied())
                .collect::<BTreeMap<_, _>>()
        )
    };
    let sample = |s: &SampleRecord| {
        let values: Vec<Option<f64>> = s.objectives.iter().copied().map(Some).collect();
        json!({
            "arch": s.arch,
            "objectives": objectives(&values),
            "stage": s.stage,
            "step": s.step,
        })
    };
    json!({
        "strategy": result.strategy,
        "budget": budget,
        "seed": seed,
        "samples": result.sample_count,
        "objectives": result.objectives,
        "final": {
            "arch": result.final_architecture.text,
            "objectives": objectives(&result.final_values),
            "reward": result.final_reward,
        },
        "best": result.best.as_ref().map(|b| {
            let mut v = sample(b);
            v["reward"] = json!(result.best_reward);
            v
        }),
        "front": result.front.iter().map(sample).collect::<Vec<_>>(),
        "hypervolume": result.hypervolume,
        "stages": result.stages.iter().map(|s| json!({
            "stage": s.stage,
            "samples": s.samples,
            "probabilities": s.active.iter().zip(&s.probabilities).map(|(ops, p)| {
                ops.iter().map(|o| o.to_string()).zip(p.iter().copied()).collect::<BTreeMap<_, _>>()
            }).collect::<Vec<_>>(),
            "dropped": s.dropped,
        })).collect::<Vec<_>>(),
    })
}

/// `tnd-nas tabular` in the space [`SpaceName::run`] hands it.
struct TabularIn<'a, B: AutodiffBackend> {
    args: &'a TabularArgs,
    input: ProxyInput<B>,
    device: B::Device,
}

impl<B: AutodiffBackend> InSpace<B> for TabularIn<'_, B> {
    fn run<S, N>(self, space: S, network: N) -> Result<(), CliError>
    where
        S: SupernetSpace,
        S::Supernet<B>: TrainableSupernet<B>,
        N: BuildNetwork + Clone + 'static,
        N::Network<B>: AutodiffModule<B>,
        <N::Network<B> as AutodiffModule<B>>::InnerModule: ImageClassifier<B::InnerBackend>,
    {
        self.args.search_in(space, network, self.input, self.device)
    }
}
