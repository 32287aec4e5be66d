//! The Fashion-MNIST ground truth of the NAS-Bench-201 space: cells trained stand-alone
//! on the full 60,000-image training split and tested on the official 10,000-image test
//! split, with one fixed protocol ([`GroundTruthProtocol::default`]). Every finished run
//! is one durable row of `--out`; run the same command again to resume a killed run or
//! to extend the file (more random cells, a second seed, cells a search selected).
//!
//! ```text
//! cargo run --release --example fm_ground_truth -- \
//!     [--data-dir /usr/share/datasets/fashion-mnist] [--out data/fm-nb201/ground-truth.csv] \
//!     [--random 250] [--second-seed 60] [--cells FILE]... [--limit N] [--epochs N]
//! ```
//!
//! - Cells: `--random` distinct cells drawn uniformly from the 15,625 with the fixed
//!   seed 2022 (the first `k` of the list are the same for every `--random k`), then
//!   every cell listed in each `--cells` file (one NAS-Bench-201 string a line;
//!   without `--cells`, `selected-cells.txt` beside `--out` when it exists).
//! - Seeds: every cell with seed 0; the first `--second-seed` random cells also with
//!   seed 1, each right after its seed-0 run, so a partial file already measures the
//!   protocol's noise.
//! - Resume: rows already in `--out` (same cell and seed) are skipped; `protocol.json`
//!   beside it must hold this protocol.
//! - `--limit N` stops after N new rows; `--epochs N` trains another protocol (give
//!   another `--out`), for convergence checks.
//! - `--jobs 2` (default) trains in two processes side by side, one thread each; every
//!   row is appended with one write, so the processes never mix lines.
//! - `train_seconds` is the CPU time of the run (user + system, data loading included;
//!   wall time off Linux): its cost on one core, whatever else shares the machine.
//!
//! The Fashion-MNIST files are those of Debian's `dataset-fashion-mnist`.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use burn::backend::{Autodiff, Flex};
use clap::Parser;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tnd_nas::data::{FashionMnist, Normalization, Split};
use tnd_nas::fidelity::{GROUND_TRUTH_COLUMNS, GroundTruth, GroundTruthProtocol, GroundTruthRow};
use tnd_nas::network::EvalNetworkSpec;
use tnd_nas::spaces::nb201::Nb201Space;
use tnd_nas::train::retrain_network;
use tnd_nas::{Architecture, SearchSpace};

type B = Autodiff<Flex>;

/// CPU seconds this process has used (user + system, all its threads), from
/// `/proc/self/stat`: the cost of a run whatever else shares the machine. `None` off
/// Linux.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) end at its closing ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// The seed of the random cell list.
const CELL_SEED: u64 = 2022;

#[derive(Parser)]
#[command(about = "Train NAS-Bench-201 cells on Fashion-MNIST: the ground truth of data/fm-nb201")]
struct Args {
    /// Folder of the Fashion-MNIST files
    #[arg(long, default_value = "/usr/share/datasets/fashion-mnist")]
    data_dir: PathBuf,
    /// The ground-truth CSV (created, or extended and resumed)
    #[arg(long, default_value = "data/fm-nb201/ground-truth.csv")]
    out: PathBuf,
    /// Random cells (seed 2022)
    #[arg(long, default_value_t = 250)]
    random: usize,
    /// How many of the random cells also train with seed 1
    #[arg(long, default_value_t = 60)]
    second_seed: usize,
    /// Files of further cells (one NAS-Bench-201 string a line), e.g. cells a search
    /// selected [default: selected-cells.txt beside --out, when it exists]
    #[arg(long, value_name = "FILE")]
    cells: Vec<PathBuf>,
    /// Stop after this many new rows
    #[arg(long)]
    limit: Option<usize>,
    /// Training processes run side by side, one thread each (small networks train
    /// almost as fast on one thread as on two)
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=64))]
    jobs: u64,
    /// Train this many epochs instead of the protocol's 3: another protocol, so give
    /// another --out (its protocol.json refuses mixing). For convergence checks.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1000))]
    epochs: Option<u64>,
    /// Internal: this process is worker K of N (`K/N`) and trains every N-th row
    #[arg(long, hide = true, value_name = "K/N")]
    worker: Option<String>,
}

/// `n` distinct cells drawn uniformly, always in the same order.
fn random_cells(space: &Nb201Space, n: usize) -> Vec<Architecture> {
    let mut rng = ChaCha8Rng::seed_from_u64(CELL_SEED);
    let mut seen = std::collections::HashSet::new();
    let mut cells = Vec::new();
    while cells.len() < n.min(15_625) {
        let ops = (0..space.edges().len())
            .map(|e| {
                let c = space.candidates(e);
                c[rng.random_range(0..c.len())]
            })
            .collect();
        let arch = Architecture::new(ops);
        if seen.insert(arch.clone()) {
            cells.push(arch);
        }
    }
    cells
}

/// Runs `args.jobs` copies of this program, each on one thread and every `jobs`-th
/// row, and waits for all of them.
fn spawn_workers(args: &Args, truth: &GroundTruth) -> Result<()> {
    if truth.rows().is_empty() && !args.out.exists() {
        // The header first, so that the workers only ever append whole rows.
        std::fs::write(&args.out, format!("{}\n", GROUND_TRUTH_COLUMNS.join(",")))
            .with_context(|| args.out.display().to_string())?;
    }
    let me = std::env::current_exe()?;
    let children = (0..args.jobs)
        .map(|k| {
            std::process::Command::new(&me)
                .args(std::env::args_os().skip(1))
                .arg("--worker")
                .arg(format!("{k}/{}", args.jobs))
                .env("RAYON_NUM_THREADS", "1")
                .spawn()
                .context("starting a worker")
        })
        .collect::<Result<Vec<_>>>()?;
    let mut failed = 0;
    for mut child in children {
        if !child.wait()?.success() {
            failed += 1;
        }
    }
    anyhow::ensure!(failed == 0, "{failed} of {} workers failed", args.jobs);
    Ok(())
}

fn main() -> Result<()> {
    let args = Args::parse();
    let mut protocol = GroundTruthProtocol::default();
    if let Some(epochs) = args.epochs {
        protocol.epochs = epochs as usize;
    }
    protocol.validate()?;
    let dir = args
        .out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), PathBuf::from);
    protocol.record_or_check(&dir)?;
    let truth = GroundTruth::read_or_empty(&args.out)?;
    let space = Nb201Space::new();
    let mut jobs: Vec<(Architecture, u64)> = Vec::new();
    for (i, arch) in random_cells(&space, args.random).into_iter().enumerate() {
        jobs.push((arch.clone(), 0));
        if i < args.second_seed {
            jobs.push((arch, 1));
        }
    }
    let beside = dir.join("selected-cells.txt");
    let cell_files = if args.cells.is_empty() && beside.exists() {
        vec![beside]
    } else {
        args.cells.clone()
    };
    for file in &cell_files {
        let text = std::fs::read_to_string(file).with_context(|| file.display().to_string())?;
        for (line, s) in text
            .lines()
            .enumerate()
            .filter(|(_, s)| !s.trim().is_empty())
        {
            let arch = space
                .parse(s.trim())
                .with_context(|| format!("{}, line {}", file.display(), line + 1))?;
            if !jobs.iter().any(|(a, seed)| *a == arch && *seed == 0) {
                jobs.push((arch, 0));
            }
        }
    }
    let todo: Vec<_> = jobs
        .into_iter()
        .filter(|(a, seed)| !truth.contains(&space.describe(a), *seed))
        .take(args.limit.unwrap_or(usize::MAX))
        .collect();
    eprintln!(
        "{} rows in {}, {} to train; protocol {}",
        truth.rows().len(),
        args.out.display(),
        todo.len(),
        serde_json::to_string(&protocol)?
    );
    if todo.is_empty() {
        return Ok(());
    }
    let (worker, workers) = match &args.worker {
        Some(w) => {
            let (k, n) = w.split_once('/').context("--worker takes K/N")?;
            (k.parse::<usize>()?, n.parse::<usize>()?)
        }
        None if args.jobs > 1 => return spawn_workers(&args, &truth),
        None => (0, 1),
    };
    let todo: Vec<_> = todo.into_iter().skip(worker).step_by(workers).collect();
    let read = |split| -> Result<_> {
        let d = FashionMnist::read(&args.data_dir, split)?;
        Ok(if protocol.downsample > 1 {
            d.downsample(protocol.downsample)?
        } else {
            d
        })
    };
    let (train, test) = (read(Split::Train)?, read(Split::Test)?);
    let network = protocol.network(train.num_classes(), train.channels());
    let started = Instant::now();
    for (k, (arch, seed)) in todo.iter().enumerate() {
        let text = space.describe(arch);
        eprintln!(
            "[worker {worker}: {}/{}] training {text} seed {seed}",
            k + 1,
            todo.len()
        );
        let (t, cpu) = (Instant::now(), cpu_seconds());
        let outcome = retrain_network::<B, _>(
            &protocol.retrain_config(*seed),
            &network,
            arch,
            train.clone(),
            test.clone(),
            &Normalization::fashion_mnist(),
            &Default::default(),
            &mut |_| {},
        )?;
        let row = GroundTruthRow {
            arch: text.clone(),
            params: outcome.params,
            macs: network.macs(arch, train.height())?,
            seed: *seed,
            test_accuracy: outcome.test_accuracy,
            train_accuracy: outcome.train_accuracy,
            train_seconds: match (cpu, cpu_seconds()) {
                (Some(a), Some(b)) => b - a,
                _ => t.elapsed().as_secs_f64(),
            },
        };
        GroundTruth::append(&args.out, &row)?;
        let elapsed = started.elapsed().as_secs_f64();
        eprintln!(
            "[worker {worker}: {}/{}] {text} seed {seed}: {:.2}% ({:.0} s; about {:.1} h left)",
            k + 1,
            todo.len(),
            row.test_accuracy,
            row.train_seconds,
            elapsed / (k + 1) as f64 * (todo.len() - k - 1) as f64 / 3600.0
        );
    }
    Ok(())
}
