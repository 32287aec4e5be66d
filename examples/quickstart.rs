//! A complete TND-NAS search on the bundled Fashion-MNIST sample, then a short retrain
//! of the architecture it found. Runs in a few minutes on two CPU cores:
//!
//! ```text
//! cargo run --release --example quickstart [-- --out DIR]
//! ```
use std::time::Instant;

use burn::backend::{Autodiff, NdArray};
use tnd_nas::data::FashionMnistSample;
use tnd_nas::objective::{MnasReward, Objective, ParamCount, ValidationAccuracy};
use tnd_nas::search::{JsonlLog, ProgressBar, Search, SearchConfig};
use tnd_nas::space::DartsSpaceConfig;

type B = Autodiff<NdArray>;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut out = std::path::PathBuf::from("quickstart-out");
    while let Some(a) = args.next() {
        match a.as_str() {
            "--out" => out = args.next().ok_or_else(|| anyhow::anyhow!("--out needs a directory"))?.into(),
            "--help" | "-h" => {
                println!("usage: quickstart [--out DIR]");
                return Ok(());
            }
            other => anyhow::bail!("unknown argument `{other}` (try --help)"),
        }
    }
    let started = Instant::now();
    let (search_part, holdout) = FashionMnistSample::search_and_holdout()?;
    eprintln!(
        "bundled Fashion-MNIST sample: {} images to search on, {} held out",
        search_part.len(),
        holdout.len()
    );
    let space = DartsSpaceConfig::tnd().init()?;
    let objectives: Vec<Box<dyn Objective>> =
        vec![Box::new(ValidationAccuracy::new()), Box::new(ParamCount::new().in_millions())];
    // MnasNet-style reward: accuracy * (params / 1.0 M)^-0.3.
    let reward = MnasReward::new(vec![1.0], vec![-0.3])?;
    let config = SearchConfig::quick().with_seed(1).with_mode(tnd_nas::search::TrainMode::SinglePath);
    std::fs::create_dir_all(&out)?;
    let mut log = JsonlLog::append(out.join("search.jsonl"))?;
    let mut bar = ProgressBar::new();
    let mut search = Search::<B>::new(config, space.into(), objectives, Box::new(reward), search_part, Default::default())?;
    let result = search.run(&mut [&mut bar, &mut log])?;
    result.write_to(&out)?;
    println!("final architecture: {}", result.final_architecture.text);
    println!(
        "{} samples scored, {} on the Pareto front, search took {:.0}s",
        result.sample_count,
        result.front.len(),
        result.wall_seconds
    );
    println!("outputs in {} (finished after {:.0}s)", out.display(), started.elapsed().as_secs_f64());
    Ok(())
}
