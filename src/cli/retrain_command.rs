//! `tnd-nas retrain`: train a genotype's evaluation network from scratch.

use std::path::{Path, PathBuf};

use burn::module::AutodiffModule;
use burn::tensor::backend::AutodiffBackend;
use serde::{Deserialize, Serialize};

use super::common::{OutputDir, genotype_family, text_or_file};
use super::config_file::ConfigFlags;
use super::program::with_backend;
use super::{CliError, DatasetName, DeviceName};
use crate::data::{ImageDataset, Normalization};
use crate::network::{BuildNetwork, ImageClassifier};
use crate::observe::RetrainProgress;
use crate::spaces::mbconv::{MbConvNetworkConfig, MbConvNetworkSpec, MbConvSpace};
use crate::spaces::nb201::{Nb201NetworkConfig, Nb201NetworkSpec, Nb201Space};
use crate::train::{
    MODEL_FILE, RetrainConfig, RetrainEvent, RetrainReport, retrain, retrain_network, save_model,
};
use crate::{Architecture, Genotype, SearchSpace};

/// What `tnd-nas retrain` writes into `--out`.
pub const RETRAIN_OUTPUTS: &[&str] = &["train.json", MODEL_FILE];

/// Options of `tnd-nas retrain` (and of the `train_genotype` example). Defaults are the
/// paper's protocol: C = 36, 20 cells, 600 epochs, batch 128, cutout 16. A NAS-Bench-201
/// string trains the NAS-Bench-201 network (C = 16 and 5 cells per stage by default;
/// `--layers` counts cells per stage), an MBConv chain the MobileNetV2 chain (`--channels`
/// and `--layers` do not apply); neither has an auxiliary head or drop-path.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
#[command(
    after_help = "Writes OUT/train.json (test accuracy, parameters, per-epoch history, \
    configuration) and OUT/model.mpk (the weights; `tnd-nas export OUT` converts them)."
)]
pub struct RetrainArgs {
    /// The genotype (DARTS or TND notation, a NAS-Bench-201 string or an MBConv chain), or
    /// a file holding it (e.g. a search's genotype.txt); the notation picks the network
    #[arg(long, value_name = "TEXT_OR_FILE")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub genotype: Option<PathBuf>,
    /// The images to train and test on
    #[arg(long, value_enum)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<DatasetName>,
    /// Folder of the dataset's files (not needed for `sample`)
    #[arg(long, value_name = "DIR")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// Output folder (created before training; refused if it holds train.json or model.mpk
    /// unless --force)
    #[arg(long, value_name = "DIR")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out: Option<PathBuf>,
    /// Replace earlier outputs in --out
    #[arg(long)]
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub force: bool,
    /// Where to compute [default: cpu]
    #[arg(long, value_enum)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<DeviceName>,
    /// Epochs [default: 600]
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epochs: Option<u64>,
    /// Initial channels C [default: 36]
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=4096))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channels: Option<u64>,
    /// Cells [default: 20]
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1000))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layers: Option<u64>,
    /// Batch size [default: 128]
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<u64>,
    /// Seed [default: 0]
    #[arg(long)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// At most this many steps per epoch
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_steps: Option<u64>,
    /// Train without the auxiliary head
    #[arg(long)]
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_auxiliary: bool,
    /// Cutout size, 0 for none [default: 16]
    #[arg(long, value_name = "N")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cutout: Option<u64>,
    /// Initial learning rate [default: 0.025]
    #[arg(long, value_parser = positive_finite)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lr: Option<f64>,
    /// Drop-path probability at the last epoch [default: 0.3; NAS-Bench-201 and MBConv
    /// networks have none]
    #[arg(long, value_name = "P", value_parser = probability)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop_path: Option<f64>,
    /// Data-loading threads
    #[arg(long, value_name = "W")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workers: Option<u64>,
    /// The whole retraining configuration (config files only; `--print-config` fills it in).
    #[arg(skip)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retrain: Option<RetrainConfig>,
    #[command(flatten)]
    #[serde(skip)]
    #[allow(missing_docs)]
    pub flags: ConfigFlags,
}

/// A finite number above zero.
pub(crate) fn positive_finite(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        Ok(x) => Err(format!("{x} is not a finite number above 0")),
        Err(e) => Err(e.to_string()),
    }
}

/// A number in [0, 1).
fn probability(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(x) if (0.0..1.0).contains(&x) => Ok(x),
        Ok(x) => Err(format!("{x} is not in [0, 1)")),
        Err(e) => Err(e.to_string()),
    }
}

impl RetrainArgs {
    /// The options with the retraining configuration resolved into `retrain`.
    ///
    /// # Errors
    /// [`CliError::Usage`] for a missing `--genotype`, `--dataset` or `--out`;
    /// [`CliError::Network`] or [`CliError::Retrain`] for a configuration that cannot train.
    pub fn effective(&self) -> Result<Self, CliError> {
        if self.genotype.is_none() {
            return Err(CliError::usage("--genotype TEXT_OR_FILE is required"));
        }
        let dataset = self.dataset.ok_or_else(|| {
            CliError::usage("--dataset is required (cifar10, cifar100, fashion-mnist or sample)")
        })?;
        if self.out.is_none() {
            return Err(CliError::usage("--out DIR is required"));
        }
        if dataset != DatasetName::Sample && self.data_dir.is_none() {
            return Err(CliError::usage(format!(
                "--dataset {} needs --data-dir DIR",
                dataset.as_str()
            )));
        }
        let mut c = match &self.retrain {
            Some(c) => c.clone(),
            None => self.family_default()?,
        };
        self.override_into(&mut c);
        c.validate()?;
        Ok(Self {
            device: Some(self.device.unwrap_or_default()),
            epochs: None,
            channels: None,
            layers: None,
            batch_size: None,
            seed: None,
            max_steps: None,
            no_auxiliary: false,
            cutout: None,
            lr: None,
            drop_path: None,
            workers: None,
            retrain: Some(c),
            ..self.clone()
        })
    }

    /// The retraining configuration of the genotype's family: NAS-Bench-201 and MBConv
    /// networks have no auxiliary head or drop-path; NAS-Bench-201's size defaults to
    /// C = 16, 5 cells per stage.
    fn family_default(&self) -> Result<RetrainConfig, CliError> {
        let text = self
            .genotype
            .as_ref()
            .map(|g| text_or_file("--genotype", g.as_os_str()))
            .transpose()?
            .map(|(t, _)| t)
            .unwrap_or_default();
        Ok(match genotype_family(&text) {
            "nb201" => RetrainConfig::default()
                .with_channels(16)
                .with_layers(5)
                .with_auxiliary(false)
                .with_drop_path(0.0),
            "mbconv" => RetrainConfig::default()
                .with_auxiliary(false)
                .with_drop_path(0.0),
            _ => RetrainConfig::default(),
        })
    }

    /// Sets in `c` every setting given on the command line.
    fn override_into(&self, c: &mut RetrainConfig) {
        let set = |slot: &mut usize, v: Option<u64>| {
            if let Some(v) = v {
                *slot = v as usize;
            }
        };
        set(&mut c.epochs, self.epochs);
        set(&mut c.channels, self.channels);
        set(&mut c.layers, self.layers);
        set(&mut c.batch_size, self.batch_size);
        set(&mut c.workers, self.workers);
        if let Some(seed) = self.seed {
            c.seed = seed;
        }
        if let Some(m) = self.max_steps {
            c.max_steps_per_epoch = Some(m as usize);
        }
        if self.no_auxiliary {
            c.auxiliary = false;
        }
        if let Some(n) = self.cutout {
            c.cutout = (n > 0).then_some(n as usize);
        }
        if let Some(lr) = self.lr {
            c.sgd.lr = lr;
        }
        if let Some(p) = self.drop_path {
            c.drop_path = p;
        }
    }

    /// Retrains and writes `train.json` and the weights.
    ///
    /// # Errors
    /// Any [`CliError`].
    pub fn run(&self) -> Result<(), CliError> {
        let args = self.effective()?;
        with_backend!(args.device.unwrap_or_default(), |B, device| args
            .run_on::<B>(&device))
    }

    fn run_on<B: AutodiffBackend>(&self, device: &B::Device) -> Result<(), CliError> {
        let (Some(text), Some(dataset), Some(out), Some(config)) =
            (&self.genotype, self.dataset, &self.out, &self.retrain)
        else {
            return Err(CliError::usage(
                "--genotype, --dataset and --out are required",
            ));
        };
        let (text, source) = text_or_file("--genotype", text.as_os_str())?;
        let parsed = Parsed::read(&text, &source)?;
        let (train, test) = dataset.train_and_test(self.data_dir.as_deref())?;
        // The folder is created and locked before the hours of training, not after.
        let dir = OutputDir::open(out, RETRAIN_OUTPUTS, false, self.force)?;
        eprintln!(
            "train {} ({} images), test {} ({} images)",
            train.name(),
            train.len(),
            test.name(),
            test.len()
        );
        let normalization = dataset.normalization();
        let mut progress = RetrainProgress::new();
        let mut observe = |e| progress.observe(e);
        let (report, weights) = parsed.train::<B>(
            config,
            (train, test),
            &normalization,
            device,
            &mut observe,
            dir.path(),
        )?;
        let json = dir.path().join("train.json");
        std::fs::write(&json, report.0 + "\n").map_err(|e| CliError::io(&json, e))?;
        eprintln!(
            "test accuracy {:.2}% ({:.3}M parameters, {:.0}s); wrote {} and {}",
            report.1.test_accuracy,
            report.1.params as f64 / 1e6,
            report.1.wall_seconds,
            json.display(),
            weights.display()
        );
        Ok(())
    }
}

/// A genotype of one of the network families.
enum Parsed {
    Darts(Genotype),
    Nb201(Architecture),
    MbConv(Architecture),
}

impl Parsed {
    /// The genotype in `text` (read from `source`), in the family its notation names.
    fn read(text: &str, source: &str) -> Result<Self, CliError> {
        let bad = |e: &dyn std::fmt::Display| CliError::Input(format!("{source}: {e}"));
        Ok(match genotype_family(text) {
            "nb201" => Self::Nb201(Nb201Space::new().parse(text.trim()).map_err(|e| bad(&e))?),
            "mbconv" => Self::MbConv(
                MbConvSpace::mobilenet_v2()
                    .parse(text.trim())
                    .map_err(|e| bad(&e))?,
            ),
            _ => {
                let genotype: Genotype = text.trim().parse().map_err(|e| bad(&e))?;
                genotype.check_reads_inputs().map_err(|e| bad(&e))?;
                Self::Darts(genotype)
            }
        })
    }

    /// Retrains the genotype's network on `train`, tests it on `test` and saves the
    /// weights into `dir`; returns the report's text and headline and the weights' path.
    fn train<B: AutodiffBackend>(
        self,
        config: &RetrainConfig,
        (train, test): (ImageDataset, ImageDataset),
        normalization: &Normalization,
        device: &B::Device,
        observe: &mut dyn FnMut(RetrainEvent),
        dir: &Path,
    ) -> Result<((String, Headline), PathBuf), CliError> {
        let (classes, in_channels) = (train.num_classes(), train.channels());
        let names = (train.name().to_owned(), test.name().to_owned());
        let names = (names.0.as_str(), names.1.as_str());
        let data = (train, test);
        match self {
            Self::Nb201(arch) => {
                let network = Nb201NetworkConfig::new(config.channels, config.layers, classes)
                    .with_in_channels(in_channels);
                let spec = Nb201NetworkSpec::new(network.clone());
                let text = Nb201Space::new().describe(&arch);
                let run = SpecRun {
                    family: "nb201",
                    text,
                    network,
                    config,
                    names,
                };
                run.train::<B, _>(&spec, &arch, data, normalization, device, observe, dir)
            }
            Self::MbConv(arch) => {
                let space = MbConvSpace::mobilenet_v2();
                let network = MbConvNetworkConfig::new(classes).with_in_channels(in_channels);
                let spec = MbConvNetworkSpec::new(space.clone(), network.clone());
                let text = space.describe(&arch);
                let run = SpecRun {
                    family: "mbconv",
                    text,
                    network,
                    config,
                    names,
                };
                run.train::<B, _>(&spec, &arch, data, normalization, device, observe, dir)
            }
            Self::Darts(genotype) => {
                let (train, test) = data;
                let outcome = retrain::<B>(
                    config,
                    &genotype,
                    train,
                    test,
                    normalization,
                    device,
                    observe,
                )?;
                Ok((
                    to_json(&outcome.report)?,
                    save_model(&outcome.model.valid(), dir)?,
                ))
            }
        }
    }
}

/// What a retraining of a NAS-Bench-201 or MBConv network records besides its outcome.
struct SpecRun<'a, N> {
    family: &'static str,
    text: String,
    network: N,
    config: &'a RetrainConfig,
    names: (&'a str, &'a str),
}

impl<N: Serialize> SpecRun<'_, N> {
    /// Trains `spec`'s network of `arch`, saves the weights into `dir`; returns the
    /// report's text and headline and the weights' path.
    #[allow(clippy::too_many_arguments)]
    fn train<B, S>(
        self,
        spec: &S,
        arch: &Architecture,
        (train, test): (ImageDataset, ImageDataset),
        normalization: &Normalization,
        device: &B::Device,
        observe: &mut dyn FnMut(RetrainEvent),
        dir: &std::path::Path,
    ) -> Result<((String, Headline), PathBuf), CliError>
    where
        B: AutodiffBackend,
        S: BuildNetwork,
        S::Network<B>: AutodiffModule<B>,
        <S::Network<B> as AutodiffModule<B>>::InnerModule: ImageClassifier<B::InnerBackend>,
    {
        let outcome = retrain_network::<B, S>(
            self.config,
            spec,
            arch,
            train,
            test,
            normalization,
            device,
            observe,
        )?;
        let report = outcome.report(
            self.family,
            self.text,
            self.network,
            self.config,
            self.names,
        );
        Ok((to_json(&report)?, save_model(&outcome.model.valid(), dir)?))
    }
}

/// The headline figures of a report, whatever its network.
struct Headline {
    test_accuracy: f64,
    params: u64,
    wall_seconds: f64,
}

/// A report as `train.json` text, with its headline figures.
fn to_json<N: Serialize>(report: &RetrainReport<N>) -> Result<(String, Headline), CliError> {
    let text = serde_json::to_string_pretty(report)
        .map_err(|e| CliError::Input(format!("cannot serialise the report: {e}")))?;
    Ok((
        text,
        Headline {
            test_accuracy: report.test_accuracy,
            params: report.params,
            wall_seconds: report.wall_seconds,
        },
    ))
}
