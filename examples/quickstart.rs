//! A complete TND-NAS search on the bundled Fashion-MNIST sample, then a short retrain
//! of the architecture it found, on the Flex CPU backend. Runs in under half a minute
//! on two CPU cores (after the build):
//!
//! ```text
//! cargo run --release --example quickstart [-- --out DIR] [--force]
//! ```
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::backend::{Autodiff, Flex};
use clap::Parser;
use tnd_nas::cli::{OutputDir, SEARCH_OUTPUTS};
use tnd_nas::data::{FashionMnistSample, ImageDataset, Normalization};
use tnd_nas::objective::{MnasReward, ParamCount, ValidationAccuracy};
use tnd_nas::search::{JsonlLog, ProgressBar, Search, SearchConfig, SearchResult};
use tnd_nas::spaces::darts::DartsSpaceConfig;
use tnd_nas::train::{RetrainConfig, RetrainEvent, retrain};

type B = Autodiff<Flex>;

/// A TND-NAS search on the bundled Fashion-MNIST sample, then a short retrain.
#[derive(Parser)]
struct Args {
    /// Where the outputs go
    #[arg(long, default_value = "quickstart-out")]
    out: PathBuf,
    /// Replace the outputs of an earlier run in --out
    #[arg(long)]
    force: bool,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // Created and locked before any work; an earlier run's outputs are refused, not
    // overwritten, unless --force.
    // What a search writes (the quickstart takes no checkpoints), and the retrain report.
    let outputs: Vec<&str> = SEARCH_OUTPUTS
        .iter()
        .copied()
        .chain(["retrain.json"])
        .collect();
    let dir = OutputDir::open(&args.out, &outputs, false, args.force)?;
    let out = dir.path();
    let started = Instant::now();
    // The bundled sample at half resolution (14x14) keeps the whole run within minutes
    // on two CPU cores.
    let (search_part, holdout) = FashionMnistSample::search_and_holdout()?;
    let (search_part, holdout) = (search_part.downsample(2)?, holdout.downsample(2)?);
    eprintln!(
        "bundled Fashion-MNIST sample at 14x14: {} images to search on, {} held out",
        search_part.len(),
        holdout.len()
    );
    let space = DartsSpaceConfig::tnd().init()?;
    let config = SearchConfig::quick()
        .with_seed(1)
        .with_mode(tnd_nas::search::TrainMode::SinglePath);
    let mut log = JsonlLog::create(out.join("search.jsonl"))?;
    let mut bar = ProgressBar::new();
    let mut search = Search::builder(space)
        .objective(ValidationAccuracy::new())
        .objective(ParamCount::new().in_millions())
        // MnasNet-style reward: accuracy * (params / 1.0 M)^-0.3.
        .reward(MnasReward::new(vec![1.0], vec![-0.3])?)
        .build::<B>(config, search_part.clone(), Default::default())?;
    let result = search.run(&mut [&mut bar, &mut log])?;
    result.write_to(out)?;
    tnd_nas::plot::write_plots(out)?;
    println!("final architecture: {}", result.final_architecture.text);
    println!(
        "{} samples scored, {} on the Pareto front, search took {:.0}s",
        result.sample_count,
        result.front.len(),
        result.wall_seconds
    );

    retrain_found(&result, search_part, &holdout, out)?;
    println!(
        "outputs in {} (finished after {:.0}s)",
        out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A short retrain of the genotype found, from scratch, tested on the held-out part;
/// writes `retrain.json`.
fn retrain_found(
    result: &SearchResult,
    search_part: ImageDataset,
    holdout: &ImageDataset,
    out: &Path,
) -> anyhow::Result<()> {
    let genotype = result
        .final_architecture
        .genotype
        .clone()
        .ok_or_else(|| anyhow::anyhow!("the DARTS space always yields a genotype"))?;
    let retrain_config = RetrainConfig::default()
        .with_channels(8)
        .with_layers(5)
        .with_epochs(3)
        .with_batch_size(32)
        .with_max_steps_per_epoch(Some(30))
        .with_cutout(None)
        .with_auxiliary(false)
        .with_drop_path(0.0)
        .with_horizontal_flip(false)
        .with_seed(1);
    let normalization = Normalization::from_dataset(&search_part)?;
    let mut on_epoch = |e: RetrainEvent| {
        if let RetrainEvent::Epoch(r) = e {
            eprintln!(
                "  retrain epoch {}: loss {:.3}, train acc {:.1}%",
                r.epoch + 1,
                r.loss,
                r.train_accuracy
            );
        }
    };
    eprintln!("retraining the final genotype (C=8, 5 cells, 3 short epochs) ...");
    let outcome = retrain::<B>(
        &retrain_config,
        &genotype,
        search_part,
        holdout.clone(),
        &normalization,
        &Default::default(),
        &mut on_epoch,
    )?;
    let report = &outcome.report;
    // The trivial baseline: always predict the most frequent class of the training part.
    let counts = holdout.class_counts();
    let majority = 100.0 * *counts.iter().max().unwrap_or(&0) as f64 / holdout.len().max(1) as f64;
    println!(
        "retrained: {:.1}% test accuracy on the {} held-out images (majority-class baseline {:.1}%), {} parameters",
        report.test_accuracy,
        holdout.len(),
        majority,
        report.params
    );
    std::fs::write(out.join("retrain.json"), serde_json::to_vec_pretty(report)?)?;
    Ok(())
}
