//! TND-NAS, random search or regularised evolution on a NAS-Bench-201-style benchmark
//! table.
//!
//! ```text
//! cargo run --release --example tabular_search -- [--table FILE.csv --arch-column NAME] \
//!     [--objective table:COLUMN:max] [--objective params:min] [--objective macs:min] \
//!     [--reward mnas:target=T,exponent=W | sum:W1,W2 | chebyshev:W1,W2 | hard:limit=L | front[:K]] \
//!     [--strategy tnd|random|rea] [--updater default|paper] [--schedule one|nb201] \
//!     [--lr LR] [--spread D] [--samples M] --budget N --seed S --out result.json
//! ```
//!
//! - Without `--table`, the NAS-Bench-201 CIFAR-10 table bundled with the crate
//!   (`TabularTable::nb201_cifar10`, arch column `arch`) is searched, and the objective
//!   defaults to its accuracy, `table:cifar10_test_acc_200ep:max`.
//! - `table:COLUMN:max|min`: a numeric column of the table.
//! - `params:min` / `macs:min`: trainable parameters / MACs (32x32 input) of the NB201
//!   network (C = 16, 5 cells per stage, 10 classes), in millions.
//! - `mnas`: `acc * (cost / T) ^ W` with acc the first maximised objective and cost the
//!   first minimised one; `T` and `W` may list one value per stage, `T1/T2/T3`.
//! - `sum`: weights of a direction-aware weighted sum; `chebyshev`: weights of a
//!   Chebyshev scalarisation whose ideal point is the table's best value for table
//!   columns and 0 for parameters and MACs; `hard:limit=L`: accuracy while cost <= L;
//!   `front` or `front:K`: a Pareto front from one search (K = 7 preferences, one TND
//!   policy each, objectives compared in quantiles of the samples so far).
//! - With one objective the reward defaults to that objective.
//! - `--budget` counts distinct architectures scored: a table lookup is exact, so a
//!   repeat is rewarded with its first score and costs nothing (for every strategy).
//! - `--updater`: `default` (rank advantages, a step size tied to the stage's planned
//!   updates) or `paper` (the paper's REINFORCE: moving baseline, Adam lr 1e-2).
//!   `--lr` sets a fixed Adam learning rate (no stage spread); `--spread D` sets the
//!   stage spread (alpha moves about D logits per stage).
//! - The JSON holds `best` and `final` (each with `arch` and `objectives`), `front`, and,
//!   with two or more objectives, `hypervolume` (`value` and its `reference` point).
//! - `--schedule`: `one` (default: one stage, all but one op dropped at its end) or
//!   `nb201` (three stages dropping 2, 1, 1 ops per edge).
//! - `--strategy`: `tnd` (default), `random`, or `rea` (regularised evolution, P = 10,
//!   S = 3; `rea:population=P,tournament=S`). Random search and evolution return their
//!   best-rewarded sample; all three report it as `best`.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail, ensure};
use serde_json::{Value, json};
use tnd_nas::SearchSpace;
use tnd_nas::eval::{Nb201NetworkConfig, Nb201NetworkSpec};
use tnd_nas::objective::{
    Direction, Macs, NB201_ARCH_COLUMN, NB201_CIFAR10_ACCURACY, Objective, ParamCount, Reward,
    Tabular, TabularTable, WeightedSum, reward_from_spec,
};
use tnd_nas::policy::UpdaterConfig;
use tnd_nas::schedule::ShrinkScheduleConfig;
use tnd_nas::search::{SampleRecord, Search, SearchResult, TableSearchConfig};
use tnd_nas::space::Nb201Space;
use tnd_nas::strategy::StrategyConfig;

struct Args {
    table: Option<String>,
    arch_column: String,
    objectives: Vec<String>,
    reward: Option<String>,
    strategy: StrategyConfig,
    updater: UpdaterConfig,
    schedule: Option<ShrinkScheduleConfig>,
    lr: Option<f64>,
    spread: Option<f64>,
    samples: Option<usize>,
    budget: usize,
    seed: u64,
    out: String,
}

fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Args> {
    let mut table = None;
    let mut arch_column = None;
    let mut objectives = Vec::new();
    let mut reward = None;
    let mut strategy = StrategyConfig::Tnd;
    let mut updater = UpdaterConfig::new();
    let mut schedule = None;
    let mut lr = None;
    let mut spread = None;
    let mut samples = None;
    let mut budget = None;
    let mut seed = None;
    let mut out = None;
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| anyhow!("`{flag}` needs a value"));
        match flag.as_str() {
            "--table" => table = Some(value()?),
            "--arch-column" => arch_column = Some(value()?),
            "--objective" => objectives.push(value()?),
            "--reward" => reward = Some(value()?),
            "--strategy" => strategy = value()?.parse()?,
            "--updater" => {
                updater = match value()?.as_str() {
                    "default" => UpdaterConfig::new(),
                    "paper" => UpdaterConfig::paper(),
                    other => bail!("unknown updater `{other}` (expected default or paper)"),
                }
            }
            "--schedule" => {
                schedule = match value()?.as_str() {
                    "one" => None,
                    "nb201" => Some(ShrinkScheduleConfig::nb201()),
                    other => bail!("unknown schedule `{other}` (expected one or nb201)"),
                }
            }
            "--lr" => lr = Some(value()?.parse().context("`--lr` needs a number")?),
            "--spread" => spread = Some(value()?.parse().context("`--spread` needs a number")?),
            "--samples" => {
                samples = Some(
                    value()?
                        .parse()
                        .context("`--samples` needs a whole number")?,
                )
            }
            "--budget" => {
                budget = Some(
                    value()?
                        .parse()
                        .context("`--budget` needs a whole number")?,
                )
            }
            "--seed" => seed = Some(value()?.parse().context("`--seed` needs a whole number")?),
            "--out" => out = Some(value()?),
            other => bail!("unknown argument `{other}` (see the example's header for usage)"),
        }
    }
    if table.is_none() && objectives.is_empty() {
        objectives.push(format!("table:{NB201_CIFAR10_ACCURACY}:max"));
    }
    ensure!(
        !objectives.is_empty(),
        "at least one `--objective` is needed"
    );
    ensure!(
        table.is_some() || arch_column.is_none(),
        "`--arch-column` needs `--table` (the bundled table's column is `{NB201_ARCH_COLUMN}`)"
    );
    Ok(Args {
        arch_column: match (&table, arch_column) {
            (_, Some(c)) => c,
            (None, None) => NB201_ARCH_COLUMN.to_string(),
            (Some(_), None) => bail!("`--arch-column NAME` is required with `--table`"),
        },
        table,
        objectives,
        reward,
        strategy,
        updater,
        schedule,
        lr,
        spread,
        samples,
        budget: budget.ok_or_else(|| anyhow!("`--budget N` is required"))?,
        seed: seed.ok_or_else(|| anyhow!("`--seed S` is required"))?,
        out: out.ok_or_else(|| anyhow!("`--out result.json` is required"))?,
    })
}

/// An objective and its Chebyshev ideal value.
fn objective(spec: &str, table: &Arc<TabularTable>) -> Result<(Box<dyn Objective>, f64)> {
    let parts: Vec<&str> = spec.split(':').collect();
    let minimised = |what: &str, dir: Option<&&str>| -> Result<()> {
        match dir {
            None => Ok(()),
            Some(d) if d.parse::<Direction>()? == Direction::Minimise => Ok(()),
            Some(_) => bail!("`{what}` can only be minimised (`{what}:min`)"),
        }
    };
    match parts.as_slice() {
        ["table", column, dir] => {
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
            Ok((Box::new(Macs::new(32).in_millions()), 0.0))
        }
        _ => {
            bail!("bad objective `{spec}` (expected table:COLUMN:max|min, params:min or macs:min)")
        }
    }
}

fn reward(
    spec: Option<&str>,
    directions: &[Direction],
    ideal: Vec<f64>,
) -> Result<Box<dyn Reward>> {
    let Some(spec) = spec else {
        ensure!(
            directions.len() == 1,
            "several objectives need a `--reward`"
        );
        return Ok(Box::new(WeightedSum::new(vec![1.0])?));
    };
    Ok(reward_from_spec(spec, directions, &ideal)?)
}

/// Checks that every architecture string of the table is an NB201 string written the
/// way the space writes it (otherwise lookups would fail later with less context).
fn check_arch_strings(table: &TabularTable, space: &Nb201Space) -> Result<()> {
    let csv = table.csv();
    let c = csv.column(table.arch_column())?;
    for row in csv.rows() {
        let text = &row.fields[c];
        let arch = space.parse(text).with_context(|| {
            format!(
                "{}, line {}: column `{}`",
                csv.source(),
                row.line,
                table.arch_column()
            )
        })?;
        ensure!(
            space.describe(&arch) == *text,
            "{}, line {}: `{text}` is not in canonical NAS-Bench-201 form (`{}`)",
            csv.source(),
            row.line,
            space.describe(&arch)
        );
    }
    Ok(())
}

fn to_json(result: &SearchResult, args: &Args) -> Value {
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
        "budget": args.budget,
        "seed": args.seed,
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

fn run() -> Result<()> {
    let args = parse_args(std::env::args().skip(1))?;
    let space = Nb201Space::new();
    let table = Arc::new(match &args.table {
        Some(path) => TabularTable::from_path(path, &args.arch_column)?,
        None => TabularTable::nb201_cifar10()?,
    });
    check_arch_strings(&table, &space)?;
    let mut objectives = Vec::new();
    let mut ideal = Vec::new();
    for spec in &args.objectives {
        let (o, z) = objective(spec, &table)?;
        objectives.push(o);
        ideal.push(z);
    }
    let directions: Vec<Direction> = objectives.iter().map(|o| o.direction()).collect();
    let reward = reward(args.reward.as_deref(), &directions, ideal)?;
    let mut cfg = TableSearchConfig::new(args.budget)
        .with_strategy(args.strategy.clone())
        .with_seed(args.seed)
        .with_updater(args.updater.clone());
    cfg.schedule = args.schedule.clone();
    if let Some(lr) = args.lr {
        cfg.updater = cfg.updater.with_lr(lr).with_stage_spread(None);
    }
    if let Some(spread) = args.spread {
        cfg.updater = cfg.updater.with_stage_spread(Some(spread));
    }
    if let Some(m) = args.samples {
        cfg.updater = cfg.updater.with_samples(m);
    }
    let network = Arc::new(Nb201NetworkSpec::new(Nb201NetworkConfig::new(16, 5, 10)));
    let mut search = Search::table(cfg, space, objectives, reward)?.with_network(network);
    let result = search.run(&mut [])?;
    let text = serde_json::to_string_pretty(&to_json(&result, &args))?;
    std::fs::write(&args.out, text + "\n")
        .with_context(|| format!("cannot write `{}`", args.out))?;
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

fn main() {
    if let Err(e) = run() {
        // One line: the error and its causes, skipping causes already quoted by their parent.
        let mut line = e.to_string();
        for cause in e.chain().skip(1) {
            let text = cause.to_string();
            if !line.contains(&text) {
                line = format!("{line}: {text}");
            }
        }
        eprintln!("error: {line}");
        std::process::exit(2);
    }
}
