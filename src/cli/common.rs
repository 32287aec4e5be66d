//! What several commands share: datasets, devices, genotype arguments, output folders.

use std::ffi::OsStr;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use burn::module::AutodiffModule;
use burn::tensor::backend::AutodiffBackend;
use serde::{Deserialize, Serialize};

use super::CliError;
use crate::data::{
    Cifar10, Cifar100, Cifar100Labels, FashionMnist, FashionMnistSample, ImageDataset,
    Normalization, Split,
};
use crate::network::{BuildNetwork, ImageClassifier};
use crate::scoring::{SupernetSpace, TrainableSupernet};
use crate::spaces::darts::{DartsNetworkSpec, DartsSpace, DartsSpaceConfig, EvalNetworkConfig};
use crate::spaces::mbconv::{MbConvNetworkConfig, MbConvNetworkSpec, MbConvSpace};
use crate::spaces::nb201::{Nb201NetworkConfig, Nb201NetworkSpec, Nb201Space};

/// The search spaces `tnd-nas search` reaches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum SpaceName {
    /// The DARTS cell space with the TND op sets (9 normal, 6 reduction ops; the paper's).
    #[default]
    Tnd,
    /// The DARTS cell space with the 8 DARTS ops in both cell types.
    Darts,
    /// NAS-Bench-201: one cell of 6 edges and 5 ops (15,625 cells).
    Nb201,
    /// The MBConv chain on the MobileNetV2 backbone (ProxylessNAS style).
    Mbconv,
}

impl SpaceName {
    /// The name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tnd => "tnd",
            Self::Darts => "darts",
            Self::Nb201 => "nb201",
            Self::Mbconv => "mbconv",
        }
    }
}

/// A command's work in one of the program's built-in spaces, with the evaluation network
/// its architectures stand for ([`SpaceName::run`]).
pub(crate) trait InSpace<B: AutodiffBackend> {
    /// Runs in `space`, measuring `network`.
    fn run<S, N>(self, space: S, network: N) -> Result<(), CliError>
    where
        S: SupernetSpace,
        S::Supernet<B>: TrainableSupernet<B>,
        N: BuildNetwork + Clone + 'static,
        N::Network<B>: AutodiffModule<B>,
        <N::Network<B> as AutodiffModule<B>>::InnerModule: ImageClassifier<B::InnerBackend>;
}

impl SpaceName {
    /// Runs `task` in this space, with the network the program measures its
    /// architectures on, for images of `channels` channels and `classes` classes: the
    /// program's one list of its built-in spaces (DARTS spaces: the 20-cell C = 36
    /// network; NAS-Bench-201: the benchmark's C = 16, N = 5; MBConv: the chain at
    /// width 1).
    pub(crate) fn run<B: AutodiffBackend>(
        self,
        classes: usize,
        channels: usize,
        task: impl InSpace<B>,
    ) -> Result<(), CliError> {
        match self {
            Self::Tnd | Self::Darts => {
                let space = match self {
                    Self::Tnd => DartsSpaceConfig::tnd(),
                    _ => DartsSpaceConfig::darts(),
                }
                .init()?;
                let network = darts_network(&space, classes, channels);
                task.run(space, network)
            }
            Self::Nb201 => task.run(
                Nb201Space::new(),
                Nb201NetworkSpec::new(
                    Nb201NetworkConfig::new(16, 5, classes).with_in_channels(channels),
                ),
            ),
            Self::Mbconv => {
                let space = MbConvSpace::mobilenet_v2();
                let network = MbConvNetworkSpec::new(
                    space.clone(),
                    MbConvNetworkConfig::new(classes).with_in_channels(channels),
                );
                task.run(space, network)
            }
        }
    }
}

/// The DARTS network (20 cells, C = 36) of architectures of `space`.
pub(super) fn darts_network(
    space: &DartsSpace,
    classes: usize,
    channels: usize,
) -> DartsNetworkSpec {
    DartsNetworkSpec::new(
        space.clone(),
        EvalNetworkConfig::new(36, 20, classes).with_in_channels(channels),
    )
}

/// The network family a genotype text belongs to, told by its notation: a
/// NAS-Bench-201 string starts with `|`, a DARTS-family genotype with `Genotype(` or
/// `TndGenotype(`, anything else is read as an MBConv chain.
pub(crate) fn genotype_family(text: &str) -> &'static str {
    let t = text.trim_start();
    if t.starts_with('|') {
        "nb201"
    } else if t.starts_with("Genotype(") || t.starts_with("TndGenotype(") {
        "darts"
    } else {
        "mbconv"
    }
}

/// The datasets the commands read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetName {
    /// CIFAR-10, binary version: `--data-dir` is the extracted `cifar-10-batches-bin/`
    /// folder itself.
    Cifar10,
    /// CIFAR-100, binary version, fine labels: `--data-dir` is the extracted
    /// `cifar-100-binary/` folder itself.
    Cifar100,
    /// Fashion-MNIST, the four `*-ubyte[.gz]` files.
    FashionMnist,
    /// The Fashion-MNIST sample bundled with the crate (3000 images to search or train
    /// on, 1000 held out); needs no `--data-dir`.
    Sample,
}

impl DatasetName {
    /// The name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cifar10 => "cifar10",
            Self::Cifar100 => "cifar100",
            Self::FashionMnist => "fashion-mnist",
            Self::Sample => "sample",
        }
    }

    /// The normalisation of the dataset's images.
    pub fn normalization(self) -> Normalization {
        match self {
            Self::Cifar10 => Normalization::cifar10(),
            Self::Cifar100 => Normalization::cifar100(),
            Self::FashionMnist | Self::Sample => Normalization::fashion_mnist(),
        }
    }

    /// Refuses a `--data-dir` that would not be read (`sample` is bundled).
    fn no_dir(self, data_dir: Option<&Path>) -> Result<(), CliError> {
        match data_dir {
            Some(dir) => Err(CliError::usage(format!(
                "--dataset {} is bundled with the crate and reads no --data-dir (given {}): \
                 drop it, or name the dataset in that folder",
                self.as_str(),
                dir.display()
            ))),
            None => Ok(()),
        }
    }

    fn dir(self, data_dir: Option<&Path>) -> Result<&Path, CliError> {
        data_dir.ok_or_else(|| {
            CliError::usage(format!(
                "--dataset {} needs --data-dir DIR: download the binary version of the dataset \
                 and extract it (CIFAR-10: cifar-10-binary.tar.gz; CIFAR-100: \
                 cifar-100-binary.tar.gz; Fashion-MNIST: the four *-ubyte.gz files)",
                self.as_str()
            ))
        })
    }

    /// The training split (the search split for `sample`).
    ///
    /// # Errors
    /// [`CliError::Usage`] without a needed `data_dir`; [`CliError::Data`] if the files
    /// cannot be read.
    pub fn train(self, data_dir: Option<&Path>) -> Result<ImageDataset, CliError> {
        Ok(match self {
            Self::Cifar10 => Cifar10::read(self.dir(data_dir)?, Split::Train)?,
            Self::Cifar100 => {
                Cifar100::read(self.dir(data_dir)?, Split::Train, Cifar100Labels::Fine)?
            }
            Self::FashionMnist => FashionMnist::read(self.dir(data_dir)?, Split::Train)?,
            Self::Sample => {
                self.no_dir(data_dir)?;
                FashionMnistSample::search_and_holdout()?.0
            }
        })
    }

    /// The training and test splits (for `sample`: the search part and the held-out part).
    ///
    /// # Errors
    /// As [`DatasetName::train`].
    pub fn train_and_test(
        self,
        data_dir: Option<&Path>,
    ) -> Result<(ImageDataset, ImageDataset), CliError> {
        Ok(match self {
            Self::Cifar10 => {
                let dir = self.dir(data_dir)?;
                (
                    Cifar10::read(dir, Split::Train)?,
                    Cifar10::read(dir, Split::Test)?,
                )
            }
            Self::Cifar100 => {
                let dir = self.dir(data_dir)?;
                (
                    Cifar100::read(dir, Split::Train, Cifar100Labels::Fine)?,
                    Cifar100::read(dir, Split::Test, Cifar100Labels::Fine)?,
                )
            }
            Self::FashionMnist => {
                let dir = self.dir(data_dir)?;
                (
                    FashionMnist::read(dir, Split::Train)?,
                    FashionMnist::read(dir, Split::Test)?,
                )
            }
            Self::Sample => {
                self.no_dir(data_dir)?;
                FashionMnistSample::search_and_holdout()?
            }
        })
    }
}

/// Where to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceName {
    /// The CPU (burn's Flex backend).
    #[default]
    Cpu,
    /// The first CUDA GPU (needs a build with the `cuda` feature).
    Cuda,
}

/// The text of a genotype-like argument: the contents of the file it names, or the
/// argument itself; with a description of where it came from, for error messages.
pub(crate) fn text_or_file(option: &str, value: &OsStr) -> Result<(String, String), CliError> {
    let path = Path::new(value);
    if path.is_file() {
        let text = std::fs::read_to_string(path).map_err(|e| {
            CliError::Input(format!(
                "cannot read {option} file `{}`: {e}",
                path.display()
            ))
        })?;
        return Ok((text, format!("{option} file `{}`", path.display())));
    }
    let text = value.to_str().ok_or_else(|| {
        CliError::Input(format!(
            "{option} `{}` is neither a file nor UTF-8 text",
            path.display()
        ))
    })?;
    Ok((text.to_string(), option.to_string()))
}

/// An output folder, created and locked for one command: another command writing
/// there at the same time is refused, and earlier outputs are never overwritten unless
/// the user asked (`--force`) or continues them (`--resume`). Every subcommand that
/// writes a folder opens it with this before any work; programs of your own can too.
///
/// # Example
/// ```
/// use tnd_nas::cli::OutputDir;
///
/// let run = std::env::temp_dir().join(format!("tnd-nas-doc-{}", std::process::id()));
/// let out = OutputDir::open(&run, &["result.json"], false, false)?;
/// std::fs::write(out.path().join("result.json"), "{}")?;
/// drop(out);
/// // A second run into the same folder is refused: its output would be replaced.
/// let again = OutputDir::open(&run, &["result.json"], false, false);
/// assert!(again.unwrap_err().to_string().contains("already holds result.json"));
/// // ... unless asked to (the old result.json is removed first).
/// OutputDir::open(&run, &["result.json"], false, true)?;
/// assert!(!run.join("result.json").exists());
/// # std::fs::remove_dir_all(&run)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct OutputDir {
    dir: PathBuf,
    /// Holds the folder's lock until dropped.
    _lock: File,
}

/// The lock file's name.
const LOCK_FILE: &str = ".tnd-nas.lock";

impl OutputDir {
    /// Creates `dir` (and its parents) and takes its lock. `outputs` are the files and
    /// folders the command writes: if one exists already the command is refused unless
    /// `keep` (resume: they are continued) or `force` (they are removed first).
    ///
    /// # Errors
    /// [`CliError::Usage`] for an empty path, a path that is a file, a folder locked by
    /// another running command, or earlier outputs without `keep` or `force`;
    /// [`CliError::Io`] when the folder, its lock or an old output cannot be created or
    /// removed.
    pub fn open(dir: &Path, outputs: &[&str], keep: bool, force: bool) -> Result<Self, CliError> {
        if dir.as_os_str().is_empty() {
            return Err(CliError::usage("--out is empty: name a directory"));
        }
        if dir.exists() && !dir.is_dir() {
            return Err(CliError::usage(format!(
                "--out {} exists and is not a directory",
                dir.display()
            )));
        }
        std::fs::create_dir_all(dir).map_err(|e| CliError::io(dir, e))?;
        let file = take_lock(
            &dir.join(LOCK_FILE),
            format!("{} is in use by another tnd-nas command", dir.display()),
        )?;
        let out = Self {
            dir: dir.to_path_buf(),
            _lock: file,
        };
        let existing: Vec<&str> = outputs
            .iter()
            .copied()
            .filter(|name| dir.join(name).exists())
            .collect();
        if !existing.is_empty() && !keep {
            if !force {
                return Err(CliError::usage(format!(
                    "{} already holds {}: pass --force to replace them{}, or choose another --out",
                    dir.display(),
                    existing.join(", "),
                    if existing.contains(&"checkpoint") {
                        ", --resume to continue the search"
                    } else {
                        ""
                    }
                )));
            }
            for name in existing {
                let path = dir.join(name);
                let removed = if path.is_dir() {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                };
                removed.map_err(|e| CliError::io(&path, e))?;
            }
        }
        Ok(out)
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.dir
    }
}

/// A single output file (`tabular`, `export`, `score`, `fidelity --out`), locked for one
/// command as folders are: a second command writing the same file at the same time is
/// refused, the file is refused if it exists unless `--force`, if it is a folder, or if
/// it is one of the command's own inputs. The lock is an advisory lock (flock) on
/// `.NAME.tnd-nas.lock` beside the file, released by the kernel when the command ends.
#[derive(Debug)]
pub(crate) struct OutputFile {
    /// Holds the lock until dropped.
    _lock: File,
}

impl OutputFile {
    /// Takes the lock of `path` and checks it may be written.
    ///
    /// # Errors
    /// [`CliError::Usage`] for a path that names no file, a folder, a file another
    /// command writes now, an existing file without `force`, or one of `inputs`;
    /// [`CliError::Io`] when the lock cannot be created.
    pub(crate) fn open(path: &Path, force: bool, inputs: &[&Path]) -> Result<Self, CliError> {
        let Some(name) = path.file_name() else {
            return Err(CliError::usage(format!(
                "--out {} names no file",
                path.display()
            )));
        };
        if path.is_dir() {
            return Err(CliError::usage(format!(
                "--out {} is a folder: name a file",
                path.display()
            )));
        }
        if let Some(input) = inputs.iter().find(|i| same_file(path, i)) {
            return Err(CliError::usage(format!(
                "--out {} is an input of this command ({}): choose another file",
                path.display(),
                input.display()
            )));
        }
        let mut lock_name = std::ffi::OsString::from(".");
        lock_name.push(name);
        lock_name.push(".tnd-nas.lock");
        let file = take_lock(
            &path.with_file_name(lock_name),
            format!(
                "{} is being written by another tnd-nas command",
                path.display()
            ),
        )?;
        if path.exists() && !force {
            return Err(CliError::usage(format!(
                "{} exists: pass --force to replace it, or choose another --out",
                path.display()
            )));
        }
        Ok(Self { _lock: file })
    }
}

/// Opens `lock` and takes its advisory lock (flock), not the file's existence: the
/// kernel releases it when the process ends, so a killed command leaves nothing to clean
/// up. `busy` is the usage error when another command holds it.
fn take_lock(lock: &Path, busy: String) -> Result<File, CliError> {
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(lock)
        .map_err(|e| CliError::io(lock, e))?;
    file.try_lock().map_err(|e| match e {
        std::fs::TryLockError::WouldBlock => CliError::usage(busy),
        std::fs::TryLockError::Error(e) => CliError::io(lock, e),
    })?;
    Ok(file)
}

/// Whether `a` and `b` name the same existing file (through links and `..`).
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
