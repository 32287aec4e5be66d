//! Search quality on real data, in the DARTS cell space with the TND op sets: the cells
//! found by TND searches on Fashion-MNIST against random cells of the same space and
//! DARTS_V2, each trained stand-alone with one protocol and tested on the official test
//! split.
//!
//! ```text
//! cargo run --release --example fm_benchmark -- --data-dir /usr/share/datasets/fashion-mnist \
//!     [--searches 5] [--random 5] [--search-steps 60] [--channels 8 | --target-params N] \
//!     [--layers 3] [--epochs 6] [--train-steps N] [--batch-size 256] [--lr 0.1] \
//!     [--downsample 2] [--out DIR]
//! ```
//!
//! - Images: the 60,000 training and 10,000 test images, averaged down by `--downsample`
//!   (default 2: 14x14), for search and training alike.
//! - Searches: [`SearchConfig::cpu`] (single-path supernet on uniform paths, three
//!   stages, scores joined with the parameter count) on the training images, each
//!   epoch capped at `--search-steps` steps, seeds 0, 1, ...; accuracy alone is the
//!   reward.
//! - Random cells: one op per edge drawn uniformly from the TND space (seeds 100, 101,
//!   ...), as end-to-end genotypes like TND's.
//! - Every cell is trained from scratch with the protocol of the NAS-Bench-201 ground
//!   truth (`data/fm-nb201/README.md`): SGD lr `--lr` cosine, momentum 0.9, weight decay
//!   5e-4, gradient clip 5, batch `--batch-size`, `--epochs` epochs (optionally capped at
//!   `--train-steps` steps), flips, no crops, no cutout, no drop path, no auxiliary head,
//!   seed 0; at `--channels` initial channels (the default, 8), or, with
//!   `--target-params`, at the channel count whose network is closest to that many
//!   parameters (a cell that cannot get within 5% is an error before any work).
//! - Resumable: `OUT/settings.json` holds the settings (a rerun with other settings
//!   into the same folder is refused), `OUT/rows.jsonl` one line per finished cell
//!   (appended and synced as it finishes; a rerun skips those), `OUT/search-s<seed>/`
//!   each search's checkpoints (a killed search resumes there) and
//!   `OUT/search-s<seed>.json` its result. A cell killed while training trains again.
//! - Prints each group's mean +- sd of test accuracy, its parameter counts and the search
//!   cost; writes `OUT/benchmark.json` (default folder `fm-benchmark-out`).
//!
//! The Fashion-MNIST files are those of Debian's `dataset-fashion-mnist`
//! (`apt-get install dataset-fashion-mnist`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail, ensure};
use burn::backend::{Autodiff, Flex};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use tnd_nas::data::{FashionMnist, ImageDataset, Normalization, Split};
use tnd_nas::objective::{ValidationAccuracy, WeightedSum};
use tnd_nas::search::{Search, SearchConfig};
use tnd_nas::spaces::darts::{DartsSpace, DartsSpaceConfig};
use tnd_nas::train::{RetrainConfig, RetrainEvent, retrain};
use tnd_nas::{Architecture, Genotype, SearchSpace};

type B = Autodiff<Flex>;

const DARTS_V2: &str = "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])";

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Settings {
    searches: u64,
    random: u64,
    search_steps: usize,
    channels: usize,
    target_params: Option<u64>,
    layers: usize,
    epochs: usize,
    train_steps: Option<usize>,
    batch_size: usize,
    lr: f64,
    downsample: usize,
}

struct Args {
    data_dir: PathBuf,
    out: PathBuf,
    settings: Settings,
}

fn parse_args() -> Result<Args> {
    let mut a = Settings {
        searches: 5,
        random: 5,
        search_steps: 60,
        channels: 8,
        target_params: None,
        layers: 3,
        epochs: 6,
        train_steps: None,
        batch_size: 256,
        lr: 0.1,
        downsample: 2,
    };
    let mut data_dir = None;
    let mut out = PathBuf::from("fm-benchmark-out");
    let mut it = std::env::args_os().skip(1);
    while let Some(flag) = it.next() {
        let flag = flag
            .into_string()
            .map_err(|f| anyhow!("argument {f:?} is not valid UTF-8"))?;
        let mut value = || it.next().ok_or_else(|| anyhow!("`{flag}` needs a value"));
        let mut number = |what: &str| -> Result<u64> {
            let v = value()?;
            v.to_str()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| anyhow!("`{what}` takes a whole number, not {v:?}"))
        };
        match flag.as_str() {
            "--data-dir" => data_dir = Some(PathBuf::from(value()?)),
            "--out" => out = PathBuf::from(value()?),
            "--searches" => a.searches = number("--searches")?,
            "--random" => a.random = number("--random")?,
            "--search-steps" => a.search_steps = number("--search-steps")? as usize,
            "--channels" => a.channels = number("--channels")? as usize,
            "--target-params" => a.target_params = Some(number("--target-params")?),
            "--layers" => a.layers = number("--layers")? as usize,
            "--epochs" => a.epochs = number("--epochs")? as usize,
            "--train-steps" => a.train_steps = Some(number("--train-steps")? as usize),
            "--batch-size" => a.batch_size = number("--batch-size")? as usize,
            "--lr" => {
                let v = value()?;
                a.lr = v
                    .to_str()
                    .and_then(|s| s.parse().ok())
                    .filter(|lr: &f64| lr.is_finite() && *lr > 0.0)
                    .ok_or_else(|| anyhow!("`--lr` takes a positive number, not {v:?}"))?;
            }
            "--downsample" => a.downsample = number("--downsample")? as usize,
            "--help" | "-h" => {
                println!("see the header of examples/fm_benchmark.rs for usage");
                std::process::exit(0);
            }
            other => bail!("unknown argument `{other}`"),
        }
    }
    let data_dir = data_dir.ok_or_else(|| {
        anyhow!("--data-dir DIR is required (apt-get install dataset-fashion-mnist: /usr/share/datasets/fashion-mnist)")
    })?;
    ensure!(
        a.searches >= 1 && a.random >= 1,
        "--searches and --random must be at least 1"
    );
    ensure!(
        a.layers >= 3,
        "--layers must be at least 3 (two reduction cells)"
    );
    ensure!(
        a.epochs >= 1 && a.batch_size >= 1 && a.channels >= 1 && a.search_steps >= 1,
        "--epochs, --batch-size, --channels and --search-steps must be at least 1"
    );
    Ok(Args {
        data_dir,
        out,
        settings: a,
    })
}

/// One cell of a group, its search cost and its trained result: a line of `rows.jsonl`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Row {
    group: String,
    seed: u64,
    genotype: String,
    search_seconds: Option<f64>,
    /// Whether the search was resumed from a checkpoint (its seconds are then the last
    /// part's only).
    #[serde(default)]
    search_resumed: bool,
    channels: usize,
    params: u64,
    test_accuracy: f64,
    train_seconds: f64,
}

/// A finished search: `search-s<seed>.json`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Searched {
    genotype: String,
    seconds: f64,
    resumed: bool,
}

/// The training every cell gets; only the channel count may differ.
fn retrain_config(s: &Settings, channels: usize) -> RetrainConfig {
    RetrainConfig::default()
        .with_channels(channels)
        .with_layers(s.layers)
        .with_epochs(s.epochs)
        .with_batch_size(s.batch_size)
        .with_lr(s.lr)
        .with_weight_decay(5e-4)
        .with_cutout(None)
        .with_crop_padding(0)
        .with_drop_path(0.0)
        .with_auxiliary(false)
        .with_horizontal_flip(true)
        .with_max_steps_per_epoch(s.train_steps)
        .with_eval_every(0)
}

/// The channel count a cell trains at (`--channels`, or the one whose network is
/// closest to `--target-params`), and its parameters.
fn channels_for(s: &Settings, genotype: &Genotype, classes: usize) -> Result<(usize, u64)> {
    let params = |c: usize| {
        retrain_config(s, c)
            .network(classes, 1)
            .param_count(genotype)
    };
    let Some(target) = s.target_params else {
        return Ok((s.channels, params(s.channels)));
    };
    let (c, p) = (2..=96)
        .map(|c| (c, params(c)))
        .min_by_key(|&(_, p)| p.abs_diff(target))
        .ok_or_else(|| anyhow!("no channel count"))?;
    let off = p.abs_diff(target) as f64 / target as f64;
    ensure!(
        off <= 0.05,
        "{}: the closest network (C = {c}) has {p} parameters, {:.1}% from the target {target}",
        genotype.to_tnd_string(),
        off * 100.0,
    );
    Ok((c, p))
}

/// Runs (or resumes, or reads back) the search of `seed`.
fn search(args: &Args, space: &DartsSpace, train: &ImageDataset, seed: u64) -> Result<Searched> {
    let done = args.out.join(format!("search-s{seed}.json"));
    if done.exists() {
        let text = std::fs::read_to_string(&done)
            .with_context(|| format!("cannot read {}", done.display()))?;
        return serde_json::from_str(&text)
            .with_context(|| format!("{} is damaged", done.display()));
    }
    let mut config = SearchConfig::cpu().with_seed(seed);
    config.train.max_steps_per_epoch = Some(args.settings.search_steps);
    config.train.augment = config
        .train
        .augment
        .clone()
        .with_normalization(Some(Normalization::fashion_mnist()));
    let dir = args.out.join(format!("search-s{seed}"));
    let search = Search::builder(space.clone())
        .objective(ValidationAccuracy::new())
        .reward(WeightedSum::new(vec![1.0])?)
        .build::<B>(config, train.clone(), Default::default())?;
    // A checkpoint is complete once its manifest is written (last).
    let resumed = dir.join("files.json").exists();
    let mut search = if resumed {
        eprintln!("  resuming from {}", dir.display());
        search.resume_from(&dir)?
    } else {
        search.with_checkpoint_dir(&dir)
    };
    let started = Instant::now();
    let result = search.run(&mut [])?;
    let genotype = result
        .final_architecture
        .genotype
        .ok_or_else(|| anyhow!("the search returned no DARTS-space genotype"))?;
    let searched = Searched {
        genotype: genotype.to_tnd_string(),
        seconds: started.elapsed().as_secs_f64(),
        resumed,
    };
    write_synced(
        &done,
        serde_json::to_string_pretty(&searched)? + "\n",
        false,
    )?;
    Ok(searched)
}

fn random_cell(space: &DartsSpace, seed: u64) -> Result<Genotype> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let ops = (0..space.edges().len())
        .map(|e| {
            let c = space.candidates(e);
            c[rng.random_range(0..c.len())]
        })
        .collect();
    space
        .finalize(Architecture::new(ops))
        .genotype
        .ok_or_else(|| anyhow!("a random cell has no genotype"))
}

fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let sd = if xs.len() > 1 {
        (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    (m, sd)
}

/// Writes `text` to `path` (appending where `append`) and syncs it to disk.
fn write_synced(path: &Path, text: String, append: bool) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The settings of the folder (written on first use; a rerun must match them) and the
/// rows it holds.
fn open_out(args: &Args) -> Result<Vec<Row>> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let path = args.out.join("settings.json");
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let saved: Settings = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not a settings file of this benchmark",
                path.display()
            )
        })?;
        ensure!(
            saved == args.settings,
            "{} holds a benchmark with other settings ({saved:?}); rerun with those or choose \
             another --out",
            path.display()
        );
    } else {
        write_synced(
            &path,
            serde_json::to_string_pretty(&args.settings)? + "\n",
            false,
        )?;
    }
    let rows = args.out.join("rows.jsonl");
    if !rows.exists() {
        return Ok(Vec::new());
    }
    let text = std::fs::read_to_string(&rows)
        .with_context(|| format!("cannot read {}", rows.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).with_context(|| {
                format!(
                    "{} line {}: not a row of this benchmark",
                    rows.display(),
                    i + 1
                )
            })
        })
        .collect()
}

fn run() -> Result<()> {
    let args = parse_args()?;
    let s = &args.settings;
    let mut rows = open_out(&args)?;
    let train = FashionMnist::read(&args.data_dir, Split::Train)?.downsample(s.downsample)?;
    let test = FashionMnist::read(&args.data_dir, Split::Test)?.downsample(s.downsample)?;
    let classes = train.num_classes();
    eprintln!(
        "Fashion-MNIST: {} training, {} test images at {}x{}; {} rows done in {}",
        train.len(),
        test.len(),
        train.height(),
        train.width(),
        rows.len(),
        args.out.display()
    );
    let space = DartsSpaceConfig::tnd().init()?;
    let started = Instant::now();

    // The fixed cells are sized before any search, so a target they cannot meet fails
    // at once.
    let mut fixed: Vec<(&str, u64, Genotype)> = Vec::new();
    for seed in 100..100 + s.random {
        fixed.push(("random", seed, random_cell(&space, seed)?));
    }
    fixed.push(("darts_v2", 0, DARTS_V2.parse()?));
    for (group, _, g) in &fixed {
        let (c, p) = channels_for(s, g, classes)?;
        eprintln!("{group} cell: C = {c}, {p} parameters");
    }
    let done = |rows: &[Row], group: &str, seed: u64| {
        rows.iter().any(|r| r.group == group && r.seed == seed)
    };
    let mut cells: Vec<(&str, u64, Genotype, Option<Searched>)> = Vec::new();
    for seed in 0..s.searches {
        if done(&rows, "tnd", seed) {
            continue;
        }
        eprintln!("TND search, seed {seed} ...");
        let searched = search(&args, &space, &train, seed)?;
        eprintln!("  {:.0} s: {}", searched.seconds, searched.genotype);
        cells.push(("tnd", seed, searched.genotype.parse()?, Some(searched)));
    }
    cells.extend(
        fixed
            .into_iter()
            .filter(|(group, seed, _)| !done(&rows, group, *seed))
            .map(|(group, seed, g)| (group, seed, g, None)),
    );

    for (group, seed, genotype, searched) in cells {
        let (channels, params) = channels_for(s, &genotype, classes)?;
        eprintln!(
            "training {group} cell (seed {seed}) at C = {channels} ({params} parameters) ..."
        );
        let config = retrain_config(s, channels);
        let t = Instant::now();
        let outcome = retrain::<B>(
            &config,
            &genotype,
            train.clone(),
            test.clone(),
            &Normalization::fashion_mnist(),
            &Default::default(),
            &mut |e| {
                if let RetrainEvent::Epoch(r) = e {
                    eprintln!(
                        "  epoch {}: train acc {:.1}%",
                        r.epoch + 1,
                        r.train_accuracy
                    )
                }
            },
        )?;
        eprintln!("  test accuracy {:.2}%", outcome.report.test_accuracy);
        let row = Row {
            group: group.to_string(),
            seed,
            genotype: genotype.to_tnd_string(),
            search_seconds: searched.as_ref().map(|x| x.seconds),
            search_resumed: searched.as_ref().is_some_and(|x| x.resumed),
            channels,
            params,
            test_accuracy: outcome.report.test_accuracy,
            train_seconds: t.elapsed().as_secs_f64(),
        };
        write_synced(
            &args.out.join("rows.jsonl"),
            serde_json::to_string(&row)? + "\n",
            true,
        )?;
        rows.push(row);
    }
    let total = started.elapsed().as_secs_f64();

    println!("| group | cells | parameters | test accuracy (mean +- sd) | search cost |");
    println!("| --- | --- | --- | --- | --- |");
    for group in ["tnd", "random", "darts_v2"] {
        let g: Vec<&Row> = rows.iter().filter(|r| r.group == group).collect();
        let (m, sd) = mean_sd(&g.iter().map(|r| r.test_accuracy).collect::<Vec<_>>());
        let (pmin, pmax) = (
            g.iter().map(|r| r.params).min().unwrap_or(0),
            g.iter().map(|r| r.params).max().unwrap_or(0),
        );
        let cost: Vec<f64> = g
            .iter()
            .filter(|r| !r.search_resumed)
            .filter_map(|r| r.search_seconds)
            .collect();
        let cost = if cost.is_empty() {
            "none".to_string()
        } else {
            let (cm, _) = mean_sd(&cost);
            format!(
                "{cm:.0} s per search on this machine ({} unresumed)",
                cost.len()
            )
        };
        println!(
            "| {group} | {} | {pmin}-{pmax} | {m:.2} +- {sd:.2} | {cost} |",
            g.len()
        );
    }
    println!("this run: {total:.0} s");
    let json = json!({ "settings": s, "rows": rows });
    let path = args.out.join("benchmark.json");
    write_synced(&path, serde_json::to_string_pretty(&json)? + "\n", false)?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!(
                "fm_benchmark: error: {}",
                format!("{e:#}").replace('\n', " ")
            );
            std::process::ExitCode::FAILURE
        }
    }
}
