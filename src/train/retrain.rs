//! Retraining an evaluation network from scratch (the DARTS / TND-NAS evaluation
//! protocol): SGD with momentum and weight decay, cosine learning rate, linearly
//! growing drop-path, a weighted auxiliary loss, global gradient-norm clipping and
//! cutout; then the test accuracy.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use burn::module::{AutodiffModule, Module, ModuleVisitor, Param};
use burn::nn::loss::{CrossEntropyLoss, CrossEntropyLossConfig};
use burn::record::{FullPrecisionSettings, NamedMpkFileRecorder};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{ElementConversion, Tensor};
use serde::{Deserialize, Serialize};

use super::RetrainError;
use crate::Architecture;
use crate::data::{AugmentConfig, BatchLoader, BatchLoaderConfig, ImageDataset, Normalization};
use crate::network::{BuildNetwork, ImageClassifier, NetworkError};
use crate::space::Genotype;
use crate::spaces::darts::{EvalNetwork, EvalNetworkConfig};
use crate::train::{Sgd, SgdSettings, count_correct, loss_and_hits, sgd_step};

/// File name of the weights written by [`save_model`] (burn's named MessagePack format).
pub const MODEL_FILE: &str = "model.mpk";

/// Configuration of [`retrain`]: the network size and the training protocol.
///
/// [`Default`] is the evaluation protocol of the paper (DARTS `train.py`): 20 cells of
/// C = 36, 600 epochs of batch 128, SGD lr 0.025 with cosine annealing to 0, momentum
/// 0.9, weight decay 3e-4, drop-path 0.3 (scaled linearly over the epochs), auxiliary
/// head with weight 0.4, cutout 16, crop padding 4, horizontal flip and global
/// gradient-norm clip 5.
///
/// ```
/// use tnd_nas::train::{RetrainConfig, RetrainError};
///
/// let quick = RetrainConfig::default()
///     .with_channels(8)
///     .with_layers(5)
///     .with_epochs(2)
///     .with_max_steps_per_epoch(Some(10));
/// assert!(quick.validate().is_ok());
/// assert_eq!(quick.lr_at(0), 0.025);
/// assert!((quick.lr_at(1) - 0.0125).abs() < 1e-12);
/// assert_eq!(quick.drop_path_at(1), 0.15);
///
/// let bad = quick.with_batch_size(0).validate();
/// assert!(matches!(
///     bad,
///     Err(RetrainError::InvalidConfig { field: "batch_size", .. })
/// ));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RetrainConfig {
    /// Initial channels `C` of the evaluation network.
    pub channels: usize,
    /// Number of cells.
    pub layers: usize,
    /// Training epochs (at least 1).
    pub epochs: usize,
    /// Images per training (and evaluation) batch.
    pub batch_size: usize,
    /// SGD: lr 0.025 annealed by a cosine to 0, momentum 0.9, weight decay 3e-4, clip 5.
    #[serde(flatten)]
    pub sgd: SgdSettings,
    /// Final drop-path probability; epoch `e` uses `drop_path * e / epochs`.
    pub drop_path: f64,
    /// Whether to train with the auxiliary head at 2/3 depth.
    pub auxiliary: bool,
    /// Weight of the auxiliary loss.
    pub auxiliary_weight: f64,
    /// Cutout side length, or `None` for no cutout.
    pub cutout: Option<usize>,
    /// Zero padding of the random crop (0 disables the crop).
    pub crop_padding: usize,
    /// Whether to flip training images left-right at random.
    pub horizontal_flip: bool,
    /// Seed of the weight initialisation, drop-path, data order and augmentation.
    pub seed: u64,
    /// Data-loading worker threads (results do not depend on it).
    pub workers: usize,
    /// Stop every epoch after this many steps (for quick runs); `None` runs full epochs.
    pub max_steps_per_epoch: Option<usize>,
    /// Evaluate the test accuracy after every `eval_every` epochs (0: only after the
    /// last epoch, which is always evaluated).
    pub eval_every: usize,
}

impl Default for RetrainConfig {
    fn default() -> Self {
        Self {
            channels: 36,
            layers: 20,
            epochs: 600,
            batch_size: 128,
            sgd: SgdSettings::default(),
            drop_path: 0.3,
            auxiliary: true,
            auxiliary_weight: 0.4,
            cutout: Some(AugmentConfig::DARTS_CUTOUT),
            crop_padding: AugmentConfig::DEFAULT_CROP_PADDING,
            horizontal_flip: true,
            seed: 0,
            workers: 2,
            max_steps_per_epoch: None,
            eval_every: 1,
        }
    }
}

impl RetrainConfig {
    crate::setters! {
        /// Sets [`channels`](Self::channels).
        with_channels => channels: usize;
        /// Sets [`layers`](Self::layers).
        with_layers => layers: usize;
        /// Sets [`epochs`](Self::epochs).
        with_epochs => epochs: usize;
        /// Sets [`batch_size`](Self::batch_size).
        with_batch_size => batch_size: usize;
        /// Sets [`sgd.lr`](SgdSettings::lr).
        with_lr => sgd.lr: f64;
        /// Sets [`sgd.lr_min`](SgdSettings::lr_min).
        with_lr_min => sgd.lr_min: f64;
        /// Sets [`sgd.momentum`](SgdSettings::momentum).
        with_momentum => sgd.momentum: f64;
        /// Sets [`sgd.weight_decay`](SgdSettings::weight_decay).
        with_weight_decay => sgd.weight_decay: f64;
        /// Sets [`sgd.grad_clip`](SgdSettings::grad_clip).
        with_grad_clip => sgd.grad_clip: Option<f64>;
        /// Sets [`drop_path`](Self::drop_path).
        with_drop_path => drop_path: f64;
        /// Sets [`auxiliary`](Self::auxiliary).
        with_auxiliary => auxiliary: bool;
        /// Sets [`auxiliary_weight`](Self::auxiliary_weight).
        with_auxiliary_weight => auxiliary_weight: f64;
        /// Sets [`cutout`](Self::cutout).
        with_cutout => cutout: Option<usize>;
        /// Sets [`crop_padding`](Self::crop_padding).
        with_crop_padding => crop_padding: usize;
        /// Sets [`horizontal_flip`](Self::horizontal_flip).
        with_horizontal_flip => horizontal_flip: bool;
        /// Sets [`seed`](Self::seed).
        with_seed => seed: u64;
        /// Sets [`workers`](Self::workers).
        with_workers => workers: usize;
        /// Sets [`max_steps_per_epoch`](Self::max_steps_per_epoch).
        with_max_steps_per_epoch => max_steps_per_epoch: Option<usize>;
        /// Sets [`eval_every`](Self::eval_every).
        with_eval_every => eval_every: usize;
    }

    /// Checks every value; the error names the first field out of range.
    ///
    /// # Errors
    /// [`RetrainError::InvalidConfig`].
    pub fn validate(&self) -> Result<(), RetrainError> {
        for (field, value) in [
            ("channels", self.channels),
            ("layers", self.layers),
            ("epochs", self.epochs),
            ("batch_size", self.batch_size),
            ("workers", self.workers),
        ] {
            if value == 0 {
                return Err(RetrainError::config(field, "must be at least 1"));
            }
        }
        // The command line's caps: a network beyond them cannot be built in memory.
        for (field, value, cap) in [
            ("channels", self.channels, 4096),
            ("layers", self.layers, 1000),
        ] {
            if value > cap {
                return Err(RetrainError::config(
                    field,
                    format!("{value} is above {cap}"),
                ));
            }
        }
        self.sgd
            .validate()
            .map_err(|(field, reason)| RetrainError::config(field, reason))?;
        if !(0.0..1.0).contains(&self.drop_path) {
            return Err(bad("drop_path", self.drop_path, "must be in 0..1"));
        }
        if !(self.auxiliary_weight.is_finite() && self.auxiliary_weight >= 0.0) {
            return Err(bad(
                "auxiliary_weight",
                self.auxiliary_weight,
                "must be finite and >= 0",
            ));
        }
        if self.cutout == Some(0) {
            return Err(RetrainError::config(
                "cutout",
                "length must be at least 1 (or None)",
            ));
        }
        if self.max_steps_per_epoch == Some(0) {
            return Err(RetrainError::config(
                "max_steps_per_epoch",
                "must be at least 1 (or None)",
            ));
        }
        Ok(())
    }

    /// Learning rate of 0-based epoch `epoch`: cosine annealing from `lr` to `lr_min`
    /// over `epochs` (PyTorch `CosineAnnealingLR` with `T_max = epochs`, stepped per epoch).
    pub fn lr_at(&self, epoch: usize) -> f64 {
        self.sgd.lr_at(epoch, self.epochs)
    }

    /// Drop-path probability of 0-based epoch `epoch`: `drop_path * epoch / epochs`.
    pub fn drop_path_at(&self, epoch: usize) -> f64 {
        self.drop_path * epoch as f64 / self.epochs.max(1) as f64
    }

    /// The evaluation network this configuration trains, for images with
    /// `in_channels` channels and `classes` classes.
    pub fn network(&self, classes: usize, in_channels: usize) -> EvalNetworkConfig {
        EvalNetworkConfig::new(self.channels, self.layers, classes)
            .with_in_channels(in_channels)
            .with_auxiliary(self.auxiliary)
    }

    /// The per-image augmentation of the training images.
    pub fn train_augment(&self, normalization: &Normalization) -> AugmentConfig {
        AugmentConfig::default()
            .with_crop_padding(self.crop_padding)
            .with_horizontal_flip(self.horizontal_flip)
            .with_cutout(self.cutout)
            .with_normalization(Some(normalization.clone()))
    }
}

fn bad(field: &'static str, value: f64, reason: &str) -> RetrainError {
    RetrainError::config(field, format!("{reason} (got {value})"))
}

/// One epoch of [`retrain`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 0-based epoch.
    pub epoch: usize,
    /// Learning rate used.
    pub lr: f64,
    /// Drop-path probability used.
    pub drop_path: f64,
    /// Mean training loss over the epoch's steps (auxiliary term included).
    pub loss: f64,
    /// Training accuracy of the main classifier over the epoch, in percent.
    pub train_accuracy: f64,
    /// Test accuracy after the epoch, in percent (`None` when not evaluated).
    pub test_accuracy: Option<f64>,
    /// Optimisation steps taken.
    pub steps: usize,
    /// Training images seen.
    pub images: usize,
    /// Seconds spent training (evaluation excluded).
    pub seconds: f64,
    /// Training throughput: `images / seconds`.
    pub images_per_sec: f64,
    /// Seconds spent on the test evaluation.
    pub eval_seconds: f64,
}

/// The result of [`retrain`] (or of [`retrain_network`], through
/// [`NetworkOutcome::report`]), for `train.json`. `N` is the configuration of the
/// network trained: [`EvalNetworkConfig`] for the DARTS family (the default),
/// [`crate::spaces::nb201::Nb201NetworkConfig`] for NAS-Bench-201.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetrainReport<N = EvalNetworkConfig> {
    /// The family of the network: `darts` (the DARTS and TND cell spaces), `nb201` or
    /// `mbconv` (reports written before this field existed are `darts`).
    #[serde(default = "darts_family")]
    pub space: String,
    /// The genotype trained, in TND text form (a NAS-Bench-201 string for `nb201`).
    pub genotype: String,
    /// Name of the training dataset.
    pub train_dataset: String,
    /// Name of the test dataset.
    pub test_dataset: String,
    /// The network built (load the weights with it; see [`load_model`]).
    pub network: N,
    /// The training configuration.
    pub config: RetrainConfig,
    /// Test accuracy of the final model, in percent.
    pub test_accuracy: f64,
    /// Training accuracy of the last epoch, in percent.
    pub train_accuracy: f64,
    /// Mean training loss of the last epoch.
    pub train_loss: f64,
    /// Trainable parameters of the evaluation network without the auxiliary head.
    pub params: u64,
    /// Trainable parameters including the auxiliary head (equal to `params` without it).
    pub params_with_auxiliary: u64,
    /// Epochs trained.
    pub epochs: usize,
    /// Optimisation steps taken in all.
    pub steps: usize,
    /// Wall-clock seconds of the whole run (building, training and evaluating).
    pub wall_seconds: f64,
    /// Per-epoch history.
    pub history: Vec<EpochRecord>,
}

fn darts_family() -> String {
    "darts".into()
}

impl<N: Clone> RetrainReport<N> {
    /// A copy with every timing (wall seconds, per-epoch seconds and throughput)
    /// zeroed, to compare the results of two runs.
    #[must_use]
    pub fn without_timings(&self) -> Self {
        let mut report = self.clone();
        report.wall_seconds = 0.0;
        for e in &mut report.history {
            e.seconds = 0.0;
            e.images_per_sec = 0.0;
            e.eval_seconds = 0.0;
        }
        report
    }
}

/// Progress of [`retrain`], passed to its observer.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub enum RetrainEvent {
    /// The network is built and training starts.
    Started {
        /// Trainable parameters without the auxiliary head.
        params: u64,
        /// Epochs to train.
        epochs: usize,
        /// Steps per epoch.
        steps_per_epoch: usize,
    },
    /// One optimisation step finished.
    Step {
        /// 0-based epoch.
        epoch: usize,
        /// 0-based step within the epoch.
        step: usize,
        /// Steps in the epoch.
        steps: usize,
        /// Loss of the step.
        loss: f64,
        /// Global gradient norm before clipping (`None` without clipping).
        grad_norm: Option<f64>,
    },
    /// One epoch finished (and was evaluated if its `test_accuracy` is set).
    Epoch(EpochRecord),
}

/// A trained network and its report, returned by [`retrain`].
#[derive(Debug)]
pub struct RetrainOutcome<B: AutodiffBackend> {
    /// The trained network (call `.valid()` for inference without autodiff).
    pub model: EvalNetwork<B>,
    /// What happened.
    pub report: RetrainReport,
}

fn data_error(e: impl std::fmt::Display) -> RetrainError {
    RetrainError::Data(e.to_string())
}

/// Trains the evaluation network of `genotype` from scratch on `train` and reports its
/// accuracy on `test`.
///
/// Everything is checked before any work: the configuration, the genotype, and that
/// both datasets are non-empty with the same image shape and classes. The random
/// state of `B` is seeded with `config.seed` before the network is built, so two runs
/// with the same seed on a deterministic backend give the same report (timings aside)
/// provided nothing else draws from the backend's random state meanwhile (Flex's is
/// process-wide: concurrent runs in one process perturb each other).
/// Each epoch `e` trains with lr [`RetrainConfig::lr_at`]`(e)` and drop-path
/// [`RetrainConfig::drop_path_at`]`(e)` on the loss `CE(logits) + w * CE(aux_logits)`,
/// clipping the global gradient norm; the test accuracy is measured on
/// `B::InnerBackend` with BN running statistics. `observer` sees every step and epoch.
///
/// ```
/// use burn::backend::{Autodiff, Flex};
/// use tnd_nas::data::{FashionMnistSample, Normalization};
/// use tnd_nas::train::{retrain, RetrainConfig, RetrainEvent};
/// use tnd_nas::Genotype;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let genotype: Genotype = "Genotype(normal=[('sep_conv_3x3', 0), ('skip_connect', 1)], normal_concat=[2], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1)], reduce_concat=[2])".parse()?;
/// let (train, test) = FashionMnistSample::search_and_holdout()?;
/// let (train, test) = (train.subset(&(0..64).collect::<Vec<_>>())?, test.subset(&(0..64).collect::<Vec<_>>())?);
/// let config = RetrainConfig::default()
///     .with_channels(4)
///     .with_layers(3)
///     .with_epochs(1)
///     .with_batch_size(32)
///     .with_cutout(None);
/// let mut epochs = 0;
/// let outcome = retrain::<Autodiff<Flex>>(
///     &config,
///     &genotype,
///     train,
///     test,
///     &Normalization::fashion_mnist(),
///     &Default::default(),
///     &mut |event| if let RetrainEvent::Epoch(_) = event { epochs += 1 },
/// )?;
/// assert_eq!((epochs, outcome.report.steps), (1, 2));
/// assert!((0.0..=100.0).contains(&outcome.report.test_accuracy));
/// # Ok(())
/// # }
/// ```
///
/// # Errors
/// [`RetrainError::InvalidConfig`] for a bad configuration,
/// [`RetrainError::Data`] for unusable datasets, [`RetrainError::NonFiniteLoss`] if
/// training diverges; [`RetrainError::Network`] for a genotype that cannot be built.
pub fn retrain<B: AutodiffBackend>(
    config: &RetrainConfig,
    genotype: &Genotype,
    train: ImageDataset,
    test: ImageDataset,
    normalization: &Normalization,
    device: &B::Device,
    observer: &mut dyn FnMut(RetrainEvent),
) -> Result<RetrainOutcome<B>, RetrainError> {
    let start = Instant::now();
    check_run(config, &train, &test)?;
    let network = config.network(train.num_classes(), train.channels());
    network.validate(genotype)?;
    let params = network.clone().with_auxiliary(false).param_count(genotype);
    let (train_name, test_name) = (train.name().to_owned(), test.name().to_owned());
    let (model, history) = fit::<B, EvalNetwork<B>>(
        config,
        train,
        test,
        normalization,
        device,
        params,
        |device| Ok(network.init(genotype, device)?),
        observer,
    )?;
    let summary = Summary::of(&history);
    let report = RetrainReport {
        space: darts_family(),
        genotype: genotype.to_tnd_string(),
        train_dataset: train_name,
        test_dataset: test_name,
        params_with_auxiliary: network.param_count(genotype),
        network,
        config: config.clone(),
        test_accuracy: summary.test_accuracy,
        train_accuracy: summary.train_accuracy,
        train_loss: summary.train_loss,
        params,
        epochs: config.epochs,
        steps: summary.steps,
        wall_seconds: start.elapsed().as_secs_f64(),
        history,
    };
    Ok(RetrainOutcome { model, report })
}

/// The result of [`retrain_network`]: the trained network and what happened.
#[derive(Debug)]
pub struct NetworkOutcome<M> {
    /// The trained network (call `.valid()` for inference without autodiff).
    pub model: M,
    /// Test accuracy of the final model, in percent.
    pub test_accuracy: f64,
    /// Training accuracy of the last epoch, in percent.
    pub train_accuracy: f64,
    /// Mean training loss of the last epoch.
    pub train_loss: f64,
    /// Trainable parameters of the network.
    pub params: u64,
    /// Optimisation steps taken in all.
    pub steps: usize,
    /// Wall-clock seconds of the whole run (building, training and evaluating).
    pub wall_seconds: f64,
    /// Per-epoch history.
    pub history: Vec<EpochRecord>,
}

/// Trains the network that `spec` builds for `arch` (any space: NAS-Bench-201, MBConv,
/// DARTS or a space of your own) from scratch on `train` and reports its accuracy on
/// `test`, with the training protocol of [`retrain`]: the same checks before any work,
/// the same seeding, loader, SGD, cosine learning rate, gradient clip, augmentation and
/// evaluation.
///
/// The network is `spec`'s: `channels`, `layers` and `auxiliary` of `config` describe the
/// DARTS network of [`retrain`] and are not read here, and `drop_path` reaches only
/// networks whose [`ImageClassifier::classify_train`] uses it.
///
/// ```
/// use burn::backend::{Autodiff, Flex};
/// use tnd_nas::data::{FashionMnistSample, Normalization};
/// use tnd_nas::spaces::nb201::{Nb201NetworkConfig, Nb201NetworkSpec};
/// use tnd_nas::train::{retrain_network, RetrainConfig};
/// use tnd_nas::spaces::nb201::Nb201Space;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let arch = Nb201Space::new().parse("|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|skip_connect~0|none~1|avg_pool_3x3~2|")?;
/// let spec = Nb201NetworkSpec::new(Nb201NetworkConfig::new(4, 1, 10).with_in_channels(1));
/// let (train, test) = FashionMnistSample::search_and_holdout()?;
/// let (train, test) = (train.subset(&(0..64).collect::<Vec<_>>())?, test.subset(&(0..64).collect::<Vec<_>>())?);
/// let config = RetrainConfig::default().with_epochs(1).with_batch_size(32).with_cutout(None);
/// let outcome = retrain_network::<Autodiff<Flex>, _>(
///     &config, &spec, &arch, train, test, &Normalization::fashion_mnist(),
///     &Default::default(), &mut |_| {},
/// )?;
/// assert_eq!(outcome.steps, 2);
/// assert!((0.0..=100.0).contains(&outcome.test_accuracy));
/// # Ok(())
/// # }
/// ```
///
/// # Errors
/// As [`retrain`]; an architecture `spec` cannot build is reported before training.
#[allow(clippy::too_many_arguments)]
pub fn retrain_network<B, S>(
    config: &RetrainConfig,
    spec: &S,
    arch: &Architecture,
    train: ImageDataset,
    test: ImageDataset,
    normalization: &Normalization,
    device: &B::Device,
    observer: &mut dyn FnMut(RetrainEvent),
) -> Result<NetworkOutcome<S::Network<B>>, RetrainError>
where
    B: AutodiffBackend,
    S: BuildNetwork,
    S::Network<B>: AutodiffModule<B>,
    <S::Network<B> as AutodiffModule<B>>::InnerModule: ImageClassifier<B::InnerBackend>,
{
    let start = Instant::now();
    check_run(config, &train, &test)?;
    let params = spec.param_count(arch).map_err(NetworkError::from)?;
    let (model, history) = fit::<B, S::Network<B>>(
        config,
        train,
        test,
        normalization,
        device,
        params,
        |device| Ok(spec.build(arch, device)?),
        observer,
    )?;
    let summary = Summary::of(&history);
    Ok(NetworkOutcome {
        model,
        test_accuracy: summary.test_accuracy,
        train_accuracy: summary.train_accuracy,
        train_loss: summary.train_loss,
        params,
        steps: summary.steps,
        wall_seconds: start.elapsed().as_secs_f64(),
        history,
    })
}

impl<M> NetworkOutcome<M> {
    /// The report of this run for `train.json`: the network family `space` (`nb201`,
    /// `mbconv`, ...), the architecture's `genotype` text, the `network` configuration
    /// that builds it again, the training `config` and the names of the datasets.
    pub fn report<N>(
        &self,
        space: &str,
        genotype: String,
        network: N,
        config: &RetrainConfig,
        datasets: (&str, &str),
    ) -> RetrainReport<N> {
        RetrainReport {
            space: space.to_string(),
            genotype,
            train_dataset: datasets.0.to_string(),
            test_dataset: datasets.1.to_string(),
            network,
            config: config.clone(),
            test_accuracy: self.test_accuracy,
            train_accuracy: self.train_accuracy,
            train_loss: self.train_loss,
            params: self.params,
            params_with_auxiliary: self.params,
            epochs: config.epochs,
            steps: self.steps,
            wall_seconds: self.wall_seconds,
            history: self.history.clone(),
        }
    }
}

/// The last epoch's figures and the step total of a history.
struct Summary {
    test_accuracy: f64,
    train_accuracy: f64,
    train_loss: f64,
    steps: usize,
}

impl Summary {
    fn of(history: &[EpochRecord]) -> Self {
        let last = history.last();
        Self {
            test_accuracy: last.and_then(|e| e.test_accuracy).unwrap_or(0.0),
            train_accuracy: last.map_or(0.0, |e| e.train_accuracy),
            train_loss: last.map_or(0.0, |e| e.loss),
            steps: history.iter().map(|e| e.steps).sum(),
        }
    }
}

/// Checks the configuration and that the datasets fit each other and the batch size.
fn check_run(
    config: &RetrainConfig,
    train: &ImageDataset,
    test: &ImageDataset,
) -> Result<(), RetrainError> {
    config.validate()?;
    if train.shape() != test.shape() || train.num_classes() != test.num_classes() {
        return Err(data_error(format!(
            "`{}` has {:?} images of {} classes but `{}` has {:?} images of {} classes",
            train.name(),
            train.shape(),
            train.num_classes(),
            test.name(),
            test.shape(),
            test.num_classes()
        )));
    }
    // A batch larger than the training set would silently shrink to it, and the
    // report would record a batch size that never ran.
    if config.batch_size > train.len() {
        return Err(RetrainError::config(
            "batch_size",
            format!(
                "{} is larger than the {} images of `{}`",
                config.batch_size,
                train.len(),
                train.name()
            ),
        ));
    }
    Ok(())
}

/// The training loop shared by [`retrain`] and [`retrain_network`]: seeds `B` with
/// `config.seed`, builds the network with `build`, trains every epoch and evaluates
/// the test accuracy as `config.eval_every` asks (always after the last epoch).
#[allow(clippy::too_many_arguments)]
fn fit<B, M>(
    config: &RetrainConfig,
    train: ImageDataset,
    test: ImageDataset,
    normalization: &Normalization,
    device: &B::Device,
    params: u64,
    build: impl FnOnce(&B::Device) -> Result<M, RetrainError>,
    observer: &mut dyn FnMut(RetrainEvent),
) -> Result<(M, Vec<EpochRecord>), RetrainError>
where
    B: AutodiffBackend,
    M: AutodiffModule<B> + ImageClassifier<B>,
    M::InnerModule: ImageClassifier<B::InnerBackend>,
{
    let loader = BatchLoaderConfig::new(config.batch_size)
        .with_seed(config.seed)
        .with_workers(config.workers)
        .with_augment(config.train_augment(normalization))
        .init(train)
        .map_err(data_error)?;
    let test = Arc::new(test);
    // Checks the test set (non-empty, normalisation channels) before training.
    eval_loader(Arc::clone(&test), normalization, config.batch_size, 1).map_err(data_error)?;
    // Seeded under the lock of `crate::seeding`; the weights are drawn lazily by the first
    // training pass, as they always were here, so that the ground truth's rows and every
    // earlier retraining reproduce (drawing them in the module's order would change them).
    let mut model = crate::seeding::seeded::<B, _>(device, config.seed, || build(device))?;
    let steps_per_epoch = config
        .max_steps_per_epoch
        .map_or(loader.batches_per_epoch(), |m| {
            m.min(loader.batches_per_epoch())
        });
    observer(RetrainEvent::Started {
        params,
        epochs: config.epochs,
        steps_per_epoch,
    });
    let run = EpochRun {
        config,
        loss: CrossEntropyLossConfig::new().init::<B>(device),
        device,
    };
    let mut optim = config.sgd.init::<B, M>();
    let mut history = Vec::with_capacity(config.epochs);
    for epoch in 0..config.epochs {
        let (next, mut record) =
            run.train_epoch(model, &mut optim, &loader, epoch, steps_per_epoch, observer)?;
        model = next;
        let last = epoch + 1 == config.epochs;
        if last || (config.eval_every > 0 && (epoch + 1) % config.eval_every == 0) {
            let eval_start = Instant::now();
            record.test_accuracy = Some(accuracy(
                &model.valid(),
                &test,
                normalization,
                config,
                device,
            )?);
            record.eval_seconds = eval_start.elapsed().as_secs_f64();
        }
        observer(RetrainEvent::Epoch(record.clone()));
        history.push(record);
    }
    Ok((model, history))
}

/// What every epoch of a retraining run trains with.
struct EpochRun<'a, B: AutodiffBackend> {
    config: &'a RetrainConfig,
    loss: CrossEntropyLoss<B>,
    device: &'a B::Device,
}

impl<B: AutodiffBackend> EpochRun<'_, B> {
    /// Trains one epoch; the record has no test accuracy yet.
    fn train_epoch<M: AutodiffModule<B> + ImageClassifier<B>>(
        &self,
        mut model: M,
        optim: &mut Sgd<M, B>,
        loader: &BatchLoader,
        epoch: usize,
        steps_per_epoch: usize,
        observer: &mut dyn FnMut(RetrainEvent),
    ) -> Result<(M, EpochRecord), RetrainError> {
        let config = self.config;
        let (lr, drop_prob) = (config.lr_at(epoch), config.drop_path_at(epoch));
        let epoch_start = Instant::now();
        let (mut loss_sum, mut correct, mut images, mut steps) = (0.0, 0.0, 0, 0);
        let batches = loader.epoch(epoch as u64).map_err(data_error)?;
        for (step, batch) in batches.take(steps_per_epoch).enumerate() {
            let n = batch.len();
            let (x, y) = batch.into_tensors::<B>(self.device);
            let (logits, aux) = model.classify_train(x, drop_prob);
            let mut loss = self.loss.forward(logits.clone(), y.clone());
            if let Some(aux) = aux
                && config.auxiliary_weight > 0.0
            {
                let aux_loss = self.loss.forward(aux, y.clone());
                loss = loss.add(aux_loss.mul_scalar(config.auxiliary_weight));
            }
            let (step_loss, step_hits) =
                loss_and_hits(loss.clone().inner(), logits.inner(), y.inner())
                    .map_err(data_error)?;
            if !step_loss.is_finite() {
                return Err(RetrainError::NonFiniteLoss {
                    epoch,
                    step,
                    loss: step_loss,
                });
            }
            let (next, grad_norm) = sgd_step(model, optim, loss, lr, config.sgd.grad_clip);
            model = next;
            loss_sum += step_loss;
            correct += step_hits;
            images += n;
            steps += 1;
            observer(RetrainEvent::Step {
                epoch,
                step,
                steps: steps_per_epoch,
                loss: step_loss,
                grad_norm,
            });
        }
        let seconds = epoch_start.elapsed().as_secs_f64();
        let record = EpochRecord {
            epoch,
            lr,
            drop_path: drop_prob,
            loss: loss_sum / steps.max(1) as f64,
            train_accuracy: 100.0 * correct / images.max(1) as f64,
            test_accuracy: None,
            steps,
            images,
            seconds,
            images_per_sec: if seconds > 0.0 {
                images as f64 / seconds
            } else {
                0.0
            },
            eval_seconds: 0.0,
        };
        Ok((model, record))
    }
}

fn eval_loader(
    dataset: Arc<ImageDataset>,
    normalization: &Normalization,
    batch_size: usize,
    workers: usize,
) -> Result<BatchLoader, crate::data::DataError> {
    BatchLoaderConfig::new(batch_size)
        .with_shuffle(false)
        .with_workers(workers)
        .with_augment(AugmentConfig::none().with_normalization(Some(normalization.clone())))
        .init(dataset)
}

fn accuracy<B: Backend, M: ImageClassifier<B>>(
    model: &M,
    test: &Arc<ImageDataset>,
    normalization: &Normalization,
    config: &RetrainConfig,
    device: &B::Device,
) -> Result<f64, RetrainError> {
    let loader = eval_loader(
        Arc::clone(test),
        normalization,
        config.batch_size,
        config.workers,
    )
    .map_err(data_error)?;
    let mut correct = 0i64;
    for batch in loader.epoch(0).map_err(data_error)? {
        let (x, y) = batch.into_tensors::<B>(device);
        correct += count_correct(model.classify(x), y)
            .into_scalar()
            .elem::<i64>();
    }
    Ok(100.0 * correct as f64 / test.len().max(1) as f64)
}

/// Test accuracy in percent of `model` on `dataset` (normalised with `normalization`,
/// no augmentation, batches of `batch_size`). Use an inference model (`model.valid()`
/// of a trained network) so that BN uses its running statistics.
///
/// # Errors
/// [`RetrainError::InvalidConfig`] for `batch_size` 0; [`RetrainError::Data`] for an
/// empty dataset or a normalisation with the wrong number of channels.
pub fn evaluate_accuracy<B: Backend>(
    model: &EvalNetwork<B>,
    dataset: ImageDataset,
    normalization: &Normalization,
    batch_size: usize,
    device: &B::Device,
) -> Result<f64, RetrainError> {
    if batch_size == 0 {
        return Err(RetrainError::config("batch_size", "must be at least 1"));
    }
    let config = RetrainConfig::default()
        .with_batch_size(batch_size)
        .with_workers(1);
    accuracy(model, &Arc::new(dataset), normalization, &config, device)
}

/// Initialises every lazily initialised parameter in place. Burn's `Param` clones an
/// uninitialised parameter into a second, independent lazy state, so a clone saved
/// before the first use would hold other weights than the original ends up with.
struct Materialize;

impl<B: Backend> ModuleVisitor<B> for Materialize {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let _ = param.val();
    }
}

fn recorder() -> NamedMpkFileRecorder<FullPrecisionSettings> {
    NamedMpkFileRecorder::<FullPrecisionSettings>::new()
}

fn record_error(path: &Path, reason: impl std::fmt::Display) -> RetrainError {
    RetrainError::Record {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

/// Writes the weights of `model` (BN running statistics included) to
/// `dir/`[`MODEL_FILE`] with burn's named MessagePack recorder at full precision,
/// creating `dir` if needed; returns the file's path. Load them back with
/// [`load_model`].
///
/// # Errors
/// [`RetrainError::Record`] naming the file if the directory or file cannot be written.
pub fn save_model<B: Backend, M: Module<B>>(
    model: &M,
    dir: impl AsRef<Path>,
) -> Result<PathBuf, RetrainError> {
    let dir = dir.as_ref();
    let path = dir.join(MODEL_FILE);
    std::fs::create_dir_all(dir).map_err(|e| record_error(dir, e))?;
    model.visit(&mut Materialize);
    model
        .clone()
        .save_file(path.clone(), &recorder())
        .map_err(|e| record_error(&path, e))?;
    Ok(path)
}

/// Builds the network of `network` and `genotype` (as recorded in
/// [`RetrainReport::network`] and [`RetrainReport::genotype`]) and loads the weights
/// [`save_model`] wrote to `dir/`[`MODEL_FILE`].
///
/// ```
/// use burn::backend::NdArray;
/// use tnd_nas::spaces::darts::EvalNetworkConfig;
/// use tnd_nas::train::{load_model, save_model};
/// use tnd_nas::Genotype;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let genotype: Genotype = "Genotype(normal=[('sep_conv_3x3', 0), ('skip_connect', 1)], normal_concat=[2], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1)], reduce_concat=[2])".parse()?;
/// let network = EvalNetworkConfig::new(4, 3, 10).with_in_channels(1);
/// let device = Default::default();
/// let model = network.init::<NdArray>(&genotype, &device)?;
/// let dir = std::env::temp_dir().join(format!("tnd-nas-doc-{}", std::process::id()));
/// let path = save_model(&model, &dir)?;
/// let loaded = load_model::<NdArray>(&network, &genotype, &dir, &device)?;
/// assert_eq!(loaded.classifier.weight.val().into_data(), model.classifier.weight.val().into_data());
/// # std::fs::remove_file(path)?;
/// # Ok(())
/// # }
/// ```
///
/// # Errors
/// [`NetworkError`] if the network cannot be built; [`RetrainError::Record`] naming the
/// file if it is missing or does not hold weights of this network.
pub fn load_model<B: Backend>(
    network: &EvalNetworkConfig,
    genotype: &Genotype,
    dir: impl AsRef<Path>,
    device: &B::Device,
) -> Result<EvalNetwork<B>, RetrainError> {
    load_weights(network.init::<B>(genotype, device)?, dir, device)
}

/// Loads the weights [`save_model`] wrote to `dir/`[`MODEL_FILE`] into `model` (built
/// with the configuration and architecture they were trained with), for any network.
///
/// # Errors
/// [`RetrainError::Record`] naming the file if it is missing or does not hold weights
/// of this network.
pub fn load_weights<B: Backend, M: Module<B>>(
    model: M,
    dir: impl AsRef<Path>,
    device: &B::Device,
) -> Result<M, RetrainError> {
    let path = dir.as_ref().join(MODEL_FILE);
    if !path.is_file() {
        return Err(record_error(&path, "not found"));
    }
    model
        .load_file(path.clone(), &recorder(), device)
        .map_err(|e| record_error(&path, e))
}
