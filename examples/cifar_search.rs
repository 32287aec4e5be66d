//! A supernet search (TND-NAS, random search or regularised evolution) on CIFAR-10,
//! CIFAR-100 or Fashion-MNIST.
//!
//! ```text
//! cargo run --release --example cifar_search -- --dataset cifar10 --data-dir DIR --out DIR \
//!     [--preset paper|quick|cpu] [--device cpu|cuda] [--seed N] [--resume] \
//!     [--objective acc] [--objective params] [--objective macs] [--objective latency] \
//!     [--reward mnas:target=4.4/3.2/2.5,exponent=-0.3 | hard:limit=3 | sum:1,-10 | chebyshev:1,1] \
//!     [--mode weighted|single-path] [--max-steps N] [--strategy tnd|random|rea]
//! ```
//!
//! `--preset`: `paper` (default; the paper's schedule and REINFORCE, hours on a GPU),
//! `quick` (minutes on a CPU, a few hundred images per stage) or `cpu` (single-path on a
//! full training set in about 20 minutes on 2 CPU cores: `SearchConfig::cpu`).
//!
//! `--strategy` (default `tnd`): `random` samples uniformly and `rea` evolves (P = 10,
//! S = 3; `rea:population=P,tournament=S`), both scored by the same supernet, which
//! then trains uniformly over every op; they return their best-rewarded sample.
//!
//! Objectives: `acc` (supernet validation accuracy, max), `params` (evaluation-network
//! parameters in millions, min), `macs` (millions, min), `latency` (ms of one forward
//! pass of the evaluation network on the CPU, batch 1, min). Default: `acc` and `params`
//! with `mnas:target=4.4/3.2/2.5,exponent=-0.3`.
//!
//! Outputs in `--out`: `search.jsonl` (one record per step and per alpha update),
//! `result.json`, `genotype.txt`, `cells.dot`, the plots `front.svg`/`.png` and
//! `alpha.svg`/`.png`, and `checkpoint/` (resume with `--resume`); the `plot` example
//! adds `curves.svg`/`.png` from `search.jsonl`. `--device cuda` needs a build with `--features cuda`.
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use burn::backend::{Autodiff, Flex, NdArray};
use burn::tensor::backend::AutodiffBackend;
use tnd_nas::data::{
    AugmentConfig, Cifar10, Cifar100, Cifar100Labels, FashionMnist, FashionMnistSample,
    ImageDataset, Normalization, Split,
};
use tnd_nas::eval::{DartsNetworkSpec, EvalNetworkConfig};
use tnd_nas::objective::{
    Direction, ForwardProbe, LatencyConfig, Macs, Objective, ParamCount, ValidationAccuracy,
    reward_from_spec,
};
use tnd_nas::search::{JsonlLog, ProgressBar, Search, SearchConfig, SearchError, TrainMode};
use tnd_nas::space::DartsSpaceConfig;
use tnd_nas::strategy::StrategyConfig;

const USAGE: &str = "usage: cifar_search --dataset cifar10|cifar100|fashion-mnist|sample --data-dir DIR --out DIR \
[--preset paper|quick|cpu] [--device cpu|cuda] [--seed N] [--resume] [--objective acc|params|macs|latency]... \
[--reward SPEC] [--mode weighted|single-path] [--max-steps N] [--strategy tnd|random|rea]";

struct Args {
    dataset: String,
    data_dir: Option<PathBuf>,
    out: PathBuf,
    preset: String,
    device: String,
    seed: u64,
    resume: bool,
    objectives: Vec<String>,
    reward: String,
    mode: Option<TrainMode>,
    max_steps: Option<usize>,
    strategy: StrategyConfig,
}

fn parse_args() -> Result<Option<Args>> {
    let mut it = std::env::args().skip(1);
    let mut a = Args {
        dataset: String::new(),
        data_dir: None,
        out: PathBuf::new(),
        preset: "paper".into(),
        device: "cpu".into(),
        seed: 0,
        resume: false,
        objectives: Vec::new(),
        reward: "mnas:target=4.4/3.2/2.5,exponent=-0.3".into(),
        mode: None,
        max_steps: None,
        strategy: StrategyConfig::Tnd,
    };
    let mut out = None;
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| anyhow!("{flag} needs a value"));
        match flag.as_str() {
            "--dataset" => a.dataset = value()?,
            "--data-dir" => a.data_dir = Some(value()?.into()),
            "--out" => out = Some(PathBuf::from(value()?)),
            "--preset" => a.preset = value()?,
            "--device" => a.device = value()?,
            "--seed" => a.seed = value()?.parse().context("--seed takes a whole number")?,
            "--resume" => a.resume = true,
            "--objective" => a.objectives.push(value()?),
            "--reward" => a.reward = value()?,
            "--mode" => {
                a.mode = Some(match value()?.as_str() {
                    "weighted" => TrainMode::Weighted,
                    "single-path" => TrainMode::SinglePath,
                    other => bail!("--mode takes weighted or single-path, not `{other}`"),
                })
            }
            "--max-steps" => {
                a.max_steps = Some(
                    value()?
                        .parse()
                        .context("--max-steps takes a whole number")?,
                )
            }
            "--strategy" => a.strategy = value()?.parse()?,
            "--help" | "-h" => return Ok(None),
            other => bail!("unknown argument `{other}`"),
        }
    }
    a.out = out.ok_or_else(|| anyhow!("--out DIR is required"))?;
    if a.dataset.is_empty() {
        bail!("--dataset is required (cifar10, cifar100, fashion-mnist or sample)");
    }
    if a.objectives.is_empty() {
        a.objectives = vec!["acc".into(), "params".into()];
    }
    Ok(Some(a))
}

fn load(args: &Args) -> Result<(ImageDataset, Normalization)> {
    let dir = || {
        args.data_dir.clone().ok_or_else(|| {
            anyhow!(
                "--data-dir is required for {}: download the binary version of the dataset and extract it \
                 (CIFAR-10: cifar-10-binary.tar.gz -> cifar-10-batches-bin/; CIFAR-100: cifar-100-binary.tar.gz \
                 -> cifar-100-binary/; Fashion-MNIST: the four *-ubyte.gz files)",
                args.dataset
            )
        })
    };
    Ok(match args.dataset.as_str() {
        "cifar10" => (
            Cifar10::read(dir()?, Split::Train)?,
            Normalization::cifar10(),
        ),
        "cifar100" => (
            Cifar100::read(dir()?, Split::Train, Cifar100Labels::Fine)?,
            Normalization::cifar100(),
        ),
        "fashion-mnist" => (
            FashionMnist::read(dir()?, Split::Train)?,
            Normalization::fashion_mnist(),
        ),
        "sample" => (
            FashionMnistSample::search_and_holdout()?.0,
            Normalization::fashion_mnist(),
        ),
        other => {
            bail!("unknown dataset `{other}` (expected cifar10, cifar100, fashion-mnist or sample)")
        }
    })
}

fn objective(name: &str, input: usize, network: &DartsNetworkSpec) -> Result<Box<dyn Objective>> {
    Ok(match name {
        "acc" => Box::new(ValidationAccuracy::new()),
        "params" => Box::new(ParamCount::new().in_millions()),
        "macs" => Box::new(Macs::new(input).in_millions()),
        "latency" => Box::new(LatencyConfig::new().with_warmup(2).with_runs(5).init(
            ForwardProbe::<NdArray, _>::new(network.clone(), Default::default(), 1, input)?,
        )?),
        other => bail!("unknown objective `{other}` (expected acc, params, macs or latency)"),
    })
}

fn run<B: AutodiffBackend>(args: &Args, device: B::Device) -> Result<()> {
    let (data, normalization) = load(args)?;
    let side = data.height();
    let mut config = match args.preset.as_str() {
        "paper" => SearchConfig::paper(),
        "quick" => SearchConfig::quick(),
        "cpu" => SearchConfig::cpu(),
        other => bail!("unknown preset `{other}` (expected paper, quick or cpu)"),
    }
    .with_seed(args.seed)
    .with_strategy(args.strategy.clone());
    config.train.augment = AugmentConfig::default().with_normalization(Some(normalization));
    if let Some(mode) = args.mode {
        config.train.mode = mode;
    }
    if args.max_steps.is_some() {
        config.train.max_steps_per_epoch = args.max_steps;
    }
    let space = DartsSpaceConfig::tnd().init()?;
    // The network the objectives measure: the space's default (NetworkCIFAR, C=36, 20 cells).
    let network = DartsNetworkSpec::new(
        space.clone(),
        EvalNetworkConfig::new(36, 20, data.num_classes()).with_in_channels(data.channels()),
    );
    let objectives = args
        .objectives
        .iter()
        .map(|o| objective(o, side, &network))
        .collect::<Result<Vec<_>>>()?;
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
    let reward = reward_from_spec(&args.reward, &directions, &ideal)?;
    // Everything is validated before the output directory is touched.
    let search = Search::new::<B, _>(config, space, objectives, reward, data, device)?;
    let checkpoint = args.out.join("checkpoint");
    let mut search = if args.resume {
        search.resume_from(&checkpoint)?
    } else {
        if checkpoint.exists() {
            bail!(
                "{} already holds a checkpoint: pass --resume to continue it, or choose another --out",
                args.out.display()
            );
        }
        search.with_checkpoint_dir(&checkpoint)
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let mut log = JsonlLog::append(args.out.join("search.jsonl"))?;
    let mut bar = ProgressBar::new();
    let result = match search.run(&mut [&mut bar, &mut log]) {
        Ok(r) => r,
        Err(e @ SearchError::NonFiniteLoss { .. }) => bail!("{e}"),
        Err(e) => return Err(e.into()),
    };
    result.write_to(&args.out)?;
    println!("{}", result.final_architecture.text);
    eprintln!("outputs in {}", args.out.display());
    Ok(())
}

fn dispatch(args: &Args) -> Result<()> {
    match args.device.as_str() {
        "cpu" => run::<Autodiff<Flex>>(args, Default::default()),
        "cuda" => cuda(args),
        other => bail!("unknown device `{other}` (expected cpu or cuda)"),
    }
}

#[cfg(feature = "cuda")]
fn cuda(args: &Args) -> Result<()> {
    use burn::backend::Cuda;
    use burn::tensor::Tensor;
    // cubecl panics (on its own device thread first) when no driver or device is
    // present: the hook installed in `main` keeps the first message, reported here.
    let probe = std::panic::catch_unwind(|| {
        let device = burn::backend::cuda::CudaDevice::default();
        let _ = Tensor::<Cuda, 1>::zeros([1], &device).into_data();
        device
    });
    let device = probe.map_err(|_| {
        let first = FIRST_PANIC
            .lock()
            .ok()
            .and_then(|m| m.clone())
            .unwrap_or_default();
        anyhow!(
            "no CUDA device available: {}",
            first.lines().next().unwrap_or("unknown error")
        )
    })?;
    run::<Autodiff<Cuda>>(args, device)
}

/// The first panic message seen (CUDA driver errors surface as panics).
static FIRST_PANIC: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

#[cfg(not(feature = "cuda"))]
fn cuda(_: &Args) -> Result<()> {
    bail!("this binary was built without the cuda feature; rebuild with --features cuda")
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {e:#}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if args.device == "cuda" {
        // Keep the panic message of a missing driver off the terminal; it is reported below.
        std::panic::set_hook(Box::new(|info| {
            let msg = info
                .payload()
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| info.payload().downcast_ref::<&str>().map(|s| s.to_string()));
            if let (Ok(mut first), Some(msg)) = (FIRST_PANIC.lock(), msg)
                && first.is_none()
            {
                *first = Some(msg);
            }
        }));
    }
    match dispatch(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", format!("{e:#}").replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}
