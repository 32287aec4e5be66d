//! Retrains the evaluation network of a genotype from scratch and reports its test
//! accuracy (the DARTS / TND-NAS evaluation protocol).
//!
//! ```text
//! cargo run --release --example train_genotype -- \
//!     --genotype TEXT_OR_FILE --dataset cifar10|cifar100|fashion-mnist|sample \
//!     [--data-dir DIR] --out DIR [--epochs N] [--channels C] [--layers L] \
//!     [--batch-size B] [--seed S] [--device cpu|cuda] [--max-steps N] \
//!     [--no-auxiliary] [--cutout N|0] [--lr X] [--drop-path P] [--workers W]
//! ```
//!
//! Writes `OUT/train.json` (test accuracy, parameters, epochs, wall seconds, per-epoch
//! history, configuration) and the weights `OUT/model.mpk`. `--dataset sample` trains
//! on the bundled Fashion-MNIST sample (3000 images) and tests on its held-out 1000,
//! without any download. Defaults are the paper's protocol (C = 36, 20 cells, 600
//! epochs, batch 128, cutout 16); `--device cuda` needs `--features cuda`.
//!
//! Quick run on the sample:
//!
//! ```text
//! cargo run --release --example train_genotype -- --dataset sample --out /tmp/run \
//!     --genotype "$(cat genotype.txt)" --channels 8 --layers 5 --epochs 3 \
//!     --batch-size 64 --cutout 0
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use burn::module::AutodiffModule;
use burn::tensor::backend::AutodiffBackend;
use tnd_nas::Genotype;
use tnd_nas::data::{
    Cifar10, Cifar100, Cifar100Labels, FashionMnist, FashionMnistSample, ImageDataset,
    Normalization, Split,
};
use tnd_nas::eval::{RetrainConfig, RetrainEvent, retrain, save_model};

const USAGE: &str = "usage: train_genotype --genotype TEXT_OR_FILE \
--dataset cifar10|cifar100|fashion-mnist|sample [--data-dir DIR] --out DIR [--epochs N] \
[--channels C] [--layers L] [--batch-size B] [--seed S] [--device cpu|cuda] [--max-steps N] \
[--no-auxiliary] [--cutout N|0] [--lr X] [--drop-path P] [--workers W]";

/// The datasets the example can train on.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Dataset {
    Cifar10,
    Cifar100,
    FashionMnist,
    Sample,
}

impl Dataset {
    /// The `--dataset` value.
    fn name(self) -> &'static str {
        match self {
            Self::Cifar10 => "cifar10",
            Self::Cifar100 => "cifar100",
            Self::FashionMnist => "fashion-mnist",
            Self::Sample => "sample",
        }
    }
}

/// Where to train.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Device {
    Cpu,
    Cuda,
}

/// The parsed command line.
#[derive(Debug)]
struct Args {
    genotype: String,
    dataset: Dataset,
    data_dir: Option<PathBuf>,
    out: PathBuf,
    device: Device,
    config: RetrainConfig,
}

fn parse_value<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    value.parse().map_err(|e| anyhow!("{flag} {value:?}: {e}"))
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Args>> {
    let mut genotype = None;
    let mut dataset = None;
    let mut data_dir = None;
    let mut out = None;
    let mut device = Device::Cpu;
    let mut config = RetrainConfig::default();
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            return Ok(None);
        }
        if flag == "--no-auxiliary" {
            config.auxiliary = false;
            continue;
        }
        let value = args.next().ok_or_else(|| anyhow!("{flag} needs a value"))?;
        match flag.as_str() {
            "--genotype" => genotype = Some(value),
            "--dataset" => {
                dataset = Some(match value.as_str() {
                    "cifar10" => Dataset::Cifar10,
                    "cifar100" => Dataset::Cifar100,
                    "fashion-mnist" => Dataset::FashionMnist,
                    "sample" => Dataset::Sample,
                    other => bail!(
                        "--dataset {other:?}: expected cifar10, cifar100, fashion-mnist or sample"
                    ),
                });
            }
            "--data-dir" => data_dir = Some(PathBuf::from(value)),
            "--out" => out = Some(PathBuf::from(value)),
            "--device" => {
                device = match value.as_str() {
                    "cpu" => Device::Cpu,
                    "cuda" => Device::Cuda,
                    other => bail!("--device {other:?}: expected cpu or cuda"),
                };
            }
            "--epochs" => config.epochs = parse_value(&flag, &value)?,
            "--channels" => config.channels = parse_value(&flag, &value)?,
            "--layers" => config.layers = parse_value(&flag, &value)?,
            "--batch-size" => config.batch_size = parse_value(&flag, &value)?,
            "--seed" => config.seed = parse_value(&flag, &value)?,
            "--max-steps" => config.max_steps_per_epoch = Some(parse_value(&flag, &value)?),
            "--cutout" => {
                let n: usize = parse_value(&flag, &value)?;
                config.cutout = (n > 0).then_some(n);
            }
            "--lr" => config.lr = parse_value(&flag, &value)?,
            "--drop-path" => config.drop_path = parse_value(&flag, &value)?,
            "--workers" => config.workers = parse_value(&flag, &value)?,
            other => bail!("unknown argument {other:?}"),
        }
    }
    let genotype = genotype.ok_or_else(|| anyhow!("--genotype is required"))?;
    let dataset = dataset.ok_or_else(|| anyhow!("--dataset is required"))?;
    let out = out.ok_or_else(|| anyhow!("--out is required"))?;
    if dataset != Dataset::Sample && data_dir.is_none() {
        bail!("--dataset {} needs --data-dir DIR", dataset.name());
    }
    config.validate()?;
    Ok(Some(Args {
        genotype,
        dataset,
        data_dir,
        out,
        device,
        config,
    }))
}

/// Reads `--genotype`: a file holding the genotype text, or the text itself.
fn read_genotype(arg: &str) -> Result<Genotype> {
    let path = Path::new(arg);
    let text = if path.is_file() {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
    } else {
        arg.to_owned()
    };
    text.trim().parse().map_err(|e| {
        if path.is_file() {
            anyhow!("{}: {e}", path.display())
        } else {
            anyhow!("--genotype is neither a file nor a valid genotype: {e}")
        }
    })
}

/// The training and test sets and their normalisation.
fn load_data(
    dataset: Dataset,
    dir: Option<&Path>,
) -> Result<(ImageDataset, ImageDataset, Normalization)> {
    let dir = || dir.unwrap_or(Path::new("."));
    Ok(match dataset {
        Dataset::Cifar10 => (
            Cifar10::read(dir(), Split::Train)?,
            Cifar10::read(dir(), Split::Test)?,
            Normalization::cifar10(),
        ),
        Dataset::Cifar100 => (
            Cifar100::read(dir(), Split::Train, Cifar100Labels::Fine)?,
            Cifar100::read(dir(), Split::Test, Cifar100Labels::Fine)?,
            Normalization::cifar100(),
        ),
        Dataset::FashionMnist => (
            FashionMnist::read(dir(), Split::Train)?,
            FashionMnist::read(dir(), Split::Test)?,
            Normalization::fashion_mnist(),
        ),
        Dataset::Sample => {
            let (search, holdout) = FashionMnistSample::search_and_holdout()?;
            (search, holdout, Normalization::fashion_mnist())
        }
    })
}

fn progress(event: RetrainEvent) {
    match event {
        RetrainEvent::Started {
            params,
            epochs,
            steps_per_epoch,
        } => eprintln!(
            "training {:.3}M parameters: {epochs} epochs of {steps_per_epoch} steps",
            params as f64 / 1e6
        ),
        RetrainEvent::Epoch(e) => {
            let test = e
                .test_accuracy
                .map_or(String::new(), |a| format!("  test {a:.2}%"));
            eprintln!(
                "epoch {:>4}  lr {:.5}  loss {:.4}  train {:.2}%{test}  {:.1}s  {:.0} img/s",
                e.epoch + 1,
                e.lr,
                e.loss,
                e.train_accuracy,
                e.seconds,
                e.images_per_sec
            );
        }
        _ => {}
    }
}

fn train_on<B: AutodiffBackend>(args: &Args, device: &B::Device) -> Result<()> {
    let genotype = read_genotype(&args.genotype)?;
    let (train, test, normalization) = load_data(args.dataset, args.data_dir.as_deref())?;
    eprintln!(
        "train {} ({} images), test {} ({} images)",
        train.name(),
        train.len(),
        test.name(),
        test.len()
    );
    let outcome = retrain::<B>(
        &args.config,
        &genotype,
        train,
        test,
        &normalization,
        device,
        &mut progress,
    )?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let json = args.out.join("train.json");
    let text = serde_json::to_string_pretty(&outcome.report)?;
    std::fs::write(&json, text).with_context(|| format!("writing {}", json.display()))?;
    let weights = save_model(&outcome.model.valid(), &args.out)?;
    eprintln!(
        "test accuracy {:.2}% ({:.3}M parameters, {:.0}s); wrote {} and {}",
        outcome.report.test_accuracy,
        outcome.report.params as f64 / 1e6,
        outcome.report.wall_seconds,
        json.display(),
        weights.display()
    );
    Ok(())
}

fn run() -> Result<()> {
    let Some(args) = parse_args(std::env::args().skip(1))? else {
        eprintln!("{USAGE}");
        return Ok(());
    };
    match args.device {
        Device::Cpu => {
            train_on::<burn::backend::Autodiff<burn::backend::Flex>>(&args, &Default::default())
        }
        #[cfg(feature = "cuda")]
        Device::Cuda => {
            train_on::<burn::backend::Autodiff<burn::backend::Cuda>>(&args, &Default::default())
        }
        #[cfg(not(feature = "cuda"))]
        Device::Cuda => bail!(
            "--device cuda needs a build with the cuda feature: \
             cargo run --release --features cuda --example train_genotype -- ..."
        ),
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let message = format!("{e:#}").replace('\n', " ");
            eprintln!("train_genotype: error: {message}");
            ExitCode::FAILURE
        }
    }
}
