//! Plugging your own objective into a search: a (made-up) energy model.
//!
//! The model prices one inference of the evaluation network as
//! `MACs x 4.6 pJ + parameters x 640 pJ` (a 32-bit multiply-add versus a DRAM read of
//! a weight, after Horowitz, ISSCC 2014) and reports microjoules. Any quantity you can
//! compute or measure for an architecture works the same way.
//!
//! ```text
//! cargo run --release --example custom_objective [-- --seed N --steps N --out DIR]
//! ```
use std::path::PathBuf;

use burn::backend::{Autodiff, NdArray};
use clap::Parser;
use tnd_nas::Architecture;
use tnd_nas::cli::OutputDir;
use tnd_nas::data::FashionMnistSample;
use tnd_nas::objective::{
    Direction, MnasReward, Objective, ObjectiveContext, ObjectiveError, ValidationAccuracy,
};
use tnd_nas::search::{ProgressBar, Search, SearchConfig, TrainMode};
use tnd_nas::spaces::darts::DartsSpaceConfig;

/// Energy of one inference in microjoules, from analytic MAC and parameter counts.
struct Energy {
    input: usize,
}

impl Objective for Energy {
    fn name(&self) -> &str {
        "energy_uj"
    }

    fn direction(&self) -> Direction {
        Direction::Minimise
    }

    fn evaluate(
        &mut self,
        arch: &Architecture,
        ctx: &ObjectiveContext<'_>,
    ) -> Result<f64, ObjectiveError> {
        // The context carries the evaluation network the architecture stands for.
        let network = ctx.network.ok_or_else(|| ObjectiveError::InvalidConfig {
            what: "energy_uj".into(),
            reason: "needs the evaluation network in the context".into(),
        })?;
        let macs = network.macs(arch, self.input)? as f64;
        let params = network.param_count(arch)? as f64;
        Ok((macs * 4.6 + params * 640.0) * 1e-6)
    }
}

/// A search rewarded by accuracy and a made-up energy model.
#[derive(Parser)]
struct Args {
    /// Seed of the search
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Supernet weight steps per epoch (the quick preset's epochs, cut short)
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u64).range(1..))]
    steps: u64,
    /// Also write result.json, genotype.txt, cells.dot and the plots here
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace the outputs of an earlier run in --out
    #[arg(long)]
    force: bool,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let out = args
        .out
        .as_deref()
        .map(|dir| OutputDir::open(dir, tnd_nas::cli::SEARCH_OUTPUTS, false, args.force))
        .transpose()?;
    let (data, _holdout) = FashionMnistSample::search_and_holdout()?;
    let space = DartsSpaceConfig::tnd().init()?;
    let energy = Energy {
        input: data.height(),
    };
    // Reward: accuracy * (energy / 2000 uJ)^-0.5: halving the energy is worth ~41% accuracy.
    let reward = MnasReward::new(vec![2000.0], vec![-0.5])?;
    let mut config = SearchConfig::quick()
        .with_mode(TrainMode::SinglePath)
        .with_seed(args.seed);
    config.train.max_steps_per_epoch = Some(args.steps as usize);
    let mut search = Search::builder(space)
        .objective(ValidationAccuracy::new())
        .objective(energy)
        .reward(reward)
        .build::<Autodiff<NdArray>>(config, data, Default::default())?;
    let result = search.run(&mut [&mut ProgressBar::new()])?;
    if let Some(dir) = &out {
        result.write_to(dir.path())?;
        tnd_nas::plot::plot_result(&result, dir.path())?;
    }
    println!("final architecture: {}", result.final_architecture.text);
    for (name, value) in result.objectives.iter().zip(&result.final_values) {
        println!(
            "  {name}: {}",
            value.map_or("n/a".to_string(), |v| format!("{v:.2}"))
        );
    }
    println!("Pareto front (accuracy %, energy uJ):");
    for s in &result.front {
        println!("  {:6.2} {:10.1}", s.objectives[0], s.objectives[1]);
    }
    Ok(())
}
