//! Search quality on real data: the cells found by several TND searches on Fashion-MNIST
//! against random cells from the same space and DARTS_V2, each retrained once with
//! identical settings at a matched parameter count and tested on the official test split.
//!
//! ```text
//! cargo run --release --example fm_benchmark -- --data-dir /usr/share/datasets/fashion-mnist \
//!     [--searches 3] [--random 5] [--search-steps 500] [--target-params 100000] \
//!     [--layers 3] [--epochs 2] [--train-steps 300] [--batch-size 64] [--downsample 2] \
//!     [--out DIR]
//! ```
//!
//! The defaults run in about an hour on two CPU cores.
//!
//! - Images: the 60,000 training and 10,000 test images, averaged down by `--downsample`
//!   (default 2: 14x14), for search and retraining alike.
//! - Searches: [`SearchConfig::cpu`] (single-path supernet, three stages) on the training
//!   images, each stage's epochs capped at `--search-steps` steps, seeds 0, 1, ...;
//!   accuracy alone is the reward, so every group competes on accuracy at the same size.
//! - Random cells: one op per edge drawn uniformly from the TND space (seeds 100, 101,
//!   ...), as end-to-end genotypes like TND's.
//! - Every cell is retrained from scratch with the same settings (SGD lr 0.025 cosine,
//!   batch `--batch-size`, `--epochs` epochs of at most `--train-steps` steps, no
//!   auxiliary head, no cutout, no drop-path, seed 0) at the initial channel count whose
//!   network is closest to `--target-params` trainable parameters; a cell that cannot
//!   get within 5% is an error, before any search or training. Tested on the 10,000 test
//!   images.
//! - Prints each group's mean +- sd of test accuracy, its parameter counts and the search
//!   cost; writes `OUT/benchmark.json` (default `fm-benchmark-out`).
//!
//! The Fashion-MNIST files are those of Debian's `dataset-fashion-mnist`
//! (`apt-get install dataset-fashion-mnist`).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail, ensure};
use burn::backend::{Autodiff, Flex};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use tnd_nas::data::{FashionMnist, ImageDataset, Normalization, Split};
use tnd_nas::eval::{RetrainConfig, RetrainEvent, retrain};
use tnd_nas::objective::{ValidationAccuracy, WeightedSum};
use tnd_nas::search::{Search, SearchConfig};
use tnd_nas::space::{DartsSpace, DartsSpaceConfig};
use tnd_nas::{Architecture, Genotype, SearchSpace};

type B = Autodiff<Flex>;

const DARTS_V2: &str = "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])";

struct Args {
    data_dir: PathBuf,
    searches: u64,
    random: u64,
    search_steps: usize,
    target_params: u64,
    layers: usize,
    epochs: usize,
    train_steps: usize,
    batch_size: usize,
    downsample: usize,
    out: PathBuf,
}

fn parse_args() -> Result<Args> {
    let mut a = Args {
        data_dir: PathBuf::new(),
        searches: 3,
        random: 5,
        search_steps: 500,
        target_params: 100_000,
        layers: 3,
        epochs: 2,
        train_steps: 300,
        batch_size: 64,
        downsample: 2,
        out: PathBuf::from("fm-benchmark-out"),
    };
    let mut data_dir = None;
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
            "--out" => a.out = PathBuf::from(value()?),
            "--searches" => a.searches = number("--searches")?,
            "--random" => a.random = number("--random")?,
            "--search-steps" => a.search_steps = number("--search-steps")? as usize,
            "--target-params" => a.target_params = number("--target-params")?,
            "--layers" => a.layers = number("--layers")? as usize,
            "--epochs" => a.epochs = number("--epochs")? as usize,
            "--train-steps" => a.train_steps = number("--train-steps")? as usize,
            "--batch-size" => a.batch_size = number("--batch-size")? as usize,
            "--downsample" => a.downsample = number("--downsample")? as usize,
            "--help" | "-h" => {
                println!("see the header of examples/fm_benchmark.rs for usage");
                std::process::exit(0);
            }
            other => bail!("unknown argument `{other}`"),
        }
    }
    a.data_dir = data_dir.ok_or_else(|| {
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
    Ok(a)
}

/// One cell of a group, its search cost and its retrained result.
struct Row {
    group: &'static str,
    genotype: Genotype,
    search_seconds: Option<f64>,
    channels: usize,
    params: u64,
    test_accuracy: f64,
    train_seconds: f64,
}

/// The retraining every cell gets; only the channel count differs.
fn retrain_config(args: &Args, channels: usize) -> RetrainConfig {
    RetrainConfig::default()
        .with_channels(channels)
        .with_layers(args.layers)
        .with_epochs(args.epochs)
        .with_batch_size(args.batch_size)
        .with_cutout(None)
        .with_drop_path(0.0)
        .with_auxiliary(false)
        .with_horizontal_flip(false)
        .with_max_steps_per_epoch(Some(args.train_steps))
}

/// The channel count whose network is closest to the target, and its parameters.
fn matched_channels(args: &Args, genotype: &Genotype, classes: usize) -> Result<(usize, u64)> {
    let (c, p) = (2..=96)
        .map(|c| {
            let p = retrain_config(args, c)
                .network(classes, 1)
                .param_count(genotype);
            (c, p)
        })
        .min_by_key(|&(_, p)| p.abs_diff(args.target_params))
        .ok_or_else(|| anyhow!("no channel count"))?;
    let off = p.abs_diff(args.target_params) as f64 / args.target_params as f64;
    ensure!(
        off <= 0.05,
        "{}: the closest network (C = {c}) has {p} parameters, {:.1}% from the target {}",
        genotype.to_tnd_string(),
        off * 100.0,
        args.target_params
    );
    Ok((c, p))
}

fn search(
    args: &Args,
    space: &DartsSpace,
    train: &ImageDataset,
    seed: u64,
) -> Result<(Genotype, f64)> {
    let mut config = SearchConfig::cpu().with_seed(seed);
    config.train.max_steps_per_epoch = Some(args.search_steps);
    config.train.augment = config
        .train
        .augment
        .clone()
        .with_normalization(Some(Normalization::fashion_mnist()));
    let started = Instant::now();
    let result = Search::builder(space.clone())
        .objective(ValidationAccuracy::new())
        .reward(WeightedSum::new(vec![1.0])?)
        .build::<B>(config, train.clone(), Default::default())?
        .run(&mut [])?;
    let seconds = started.elapsed().as_secs_f64();
    let genotype = result
        .final_architecture
        .genotype
        .ok_or_else(|| anyhow!("the search returned no DARTS-space genotype"))?;
    Ok((genotype, seconds))
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

fn run() -> Result<()> {
    let args = parse_args()?;
    if args.out.join("benchmark.json").exists() {
        bail!(
            "{} already holds a benchmark.json; choose another --out",
            args.out.display()
        );
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let train = FashionMnist::read(&args.data_dir, Split::Train)?.downsample(args.downsample)?;
    let test = FashionMnist::read(&args.data_dir, Split::Test)?.downsample(args.downsample)?;
    let classes = train.num_classes();
    eprintln!(
        "Fashion-MNIST: {} training, {} test images at {}x{}",
        train.len(),
        test.len(),
        train.height(),
        train.width()
    );
    let space = DartsSpaceConfig::tnd().init()?;
    let started = Instant::now();

    let mut cells: Vec<(&'static str, Genotype, Option<f64>)> = Vec::new();
    // The fixed cells are matched before any search, so a target they cannot meet fails
    // at once.
    let mut fixed = Vec::new();
    for seed in 100..100 + args.random {
        fixed.push(("random", random_cell(&space, seed)?, None));
    }
    fixed.push(("darts_v2", DARTS_V2.parse()?, None));
    for (group, g, _) in &fixed {
        let (c, p) = matched_channels(&args, g, classes)?;
        eprintln!("{group} cell: C = {c}, {p} parameters");
    }
    for seed in 0..args.searches {
        eprintln!("TND search, seed {seed} ...");
        let (g, seconds) = search(&args, &space, &train, seed)?;
        eprintln!("  {seconds:.0} s: {}", g.to_tnd_string());
        cells.push(("tnd", g, Some(seconds)));
    }
    cells.extend(fixed);
    let matched = cells
        .iter()
        .map(|(_, g, _)| matched_channels(&args, g, classes))
        .collect::<Result<Vec<_>>>()?;

    let mut rows = Vec::new();
    for ((group, genotype, search_seconds), (channels, params)) in cells.into_iter().zip(matched) {
        eprintln!("retraining {group} cell at C = {channels} ({params} parameters) ...");
        let config = retrain_config(&args, channels);
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
        rows.push(Row {
            group,
            genotype,
            search_seconds,
            channels,
            params,
            test_accuracy: outcome.report.test_accuracy,
            train_seconds: t.elapsed().as_secs_f64(),
        });
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
        let cost: Vec<f64> = g.iter().filter_map(|r| r.search_seconds).collect();
        let cost = if cost.is_empty() {
            "none".to_string()
        } else {
            let (cm, _) = mean_sd(&cost);
            format!("{cm:.0} s per search on this machine")
        };
        println!(
            "| {group} | {} | {pmin}-{pmax} | {m:.2} +- {sd:.2} | {cost} |",
            g.len()
        );
    }
    println!("whole benchmark: {total:.0} s");
    let json = json!({
        "settings": {
            "searches": args.searches, "random": args.random, "search_steps": args.search_steps,
            "target_params": args.target_params, "layers": args.layers, "epochs": args.epochs,
            "train_steps": args.train_steps, "batch_size": args.batch_size,
            "downsample": args.downsample,
        },
        "rows": rows.iter().map(|r| json!({
            "group": r.group, "genotype": r.genotype.to_tnd_string(), "channels": r.channels,
            "params": r.params, "test_accuracy": r.test_accuracy,
            "search_seconds": r.search_seconds, "train_seconds": r.train_seconds,
        })).collect::<Vec<_>>(),
        "seconds": total,
    });
    let path = args.out.join("benchmark.json");
    std::fs::write(&path, serde_json::to_string_pretty(&json)? + "\n")
        .with_context(|| format!("cannot write {}", path.display()))?;
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
