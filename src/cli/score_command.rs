//! `tnd-nas score`: zero-cost proxy scores of a file of architectures.

use std::path::{Path, PathBuf};

use burn::module::AutodiffModule;
use burn::tensor::backend::AutodiffBackend;
use serde::{Deserialize, Serialize};

use super::common::OutputFile;
use super::config_file::ConfigFlags;
use super::program::with_backend;
use super::{CliError, DatasetName, DeviceName, SpaceName};
use crate::network::{BuildNetwork, EvalNetworkSpec, ImageClassifier};
use crate::objective::CsvTable;
use crate::ops::seeded_module;
use crate::proxy::{ProxyInput, ProxyScorerConfig, ZeroCost, ZeroCostProxy};
use crate::space::Genotype;
use crate::spaces::darts::{DartsNetworkSpec, DartsSpaceConfig, EvalNetworkConfig};
use crate::spaces::mbconv::{MbConvNetworkConfig, MbConvNetworkSpec, MbConvSpace};
use crate::spaces::nb201::{Nb201NetworkConfig, Nb201NetworkSpec, Nb201Space};

/// Options of `tnd-nas score`.
///
/// Builds each architecture's evaluation network, freshly initialised from `--seed`
/// (the same seed for every architecture), and scores it with each `--proxy`: synflow
/// reads one all-ones image; naswot, grad_norm and snip read one batch of
/// `--proxy-batch` training images of `--dataset` (normalised, not augmented). The
/// networks: NAS-Bench-201's at C = `--channels` (16), N = `--cells` (5) per stage; the
/// DARTS `NetworkCIFAR` at C = `--channels` (16) and `--cells` (8) cells, from genotype
/// text; MobileNetV2 with the MBConv chain. Writes `arch,<proxy>,...` for every row, in
/// input order.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
#[command(after_help = "Writes one CSV row per architecture, in the order of --archs.")]
pub struct ScoreArgs {
    /// The space the architectures belong to: nb201 (cell strings), darts or tnd
    /// (genotype text), mbconv (comma-separated block choices) [default: nb201]
    #[arg(long, value_enum)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub space: Option<SpaceName>,
    /// A CSV file with a header row, one architecture per row
    #[arg(long, value_name = "FILE.csv")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archs: Option<PathBuf>,
    /// The column of --archs that holds the architectures [default: arch]
    #[arg(long, value_name = "NAME")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch_column: Option<String>,
    /// A proxy to compute (repeat for several): synflow, naswot, grad-norm, snip,
    /// zero-cost [default: synflow]
    #[arg(long, value_enum)]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub proxy: Vec<ProxyName>,
    /// The images naswot, grad-norm and snip read (one batch of its training split);
    /// also sets synflow's input shape and the classes [default: 3x32x32, 10 classes]
    #[arg(long, value_enum)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<DatasetName>,
    /// Folder of the dataset's files (not needed for `sample`)
    #[arg(long, value_name = "DIR")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// Images in the batch of a data-dependent proxy [default: 64]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(2..=4096))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_batch: Option<u64>,
    /// Width of the networks: channels of the first stage [default: 16]
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channels: Option<u64>,
    /// Depth: cells per stage (nb201) or cells in all (darts) [default: 5 for nb201, 8
    /// for darts]
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=64))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cells: Option<u64>,
    /// Seed of every network's initialisation and of the batch [default: 0]
    #[arg(long)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Where to compute [default: cpu]
    #[arg(long, value_enum)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<DeviceName>,
    /// The CSV to write (refused if it exists unless --force)
    #[arg(long, value_name = "FILE.csv")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out: Option<PathBuf>,
    /// Replace an existing --out
    #[arg(long)]
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub force: bool,
    #[command(flatten)]
    #[serde(skip)]
    #[allow(missing_docs)]
    pub flags: ConfigFlags,
}

/// The proxies on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ProxyName {
    /// synflow (data-free)
    Synflow,
    /// NASWOT: the log-determinant of the ReLU-code kernel of one batch
    Naswot,
    /// The summed gradient norms of one batch's loss
    GradNorm,
    /// SNIP: the summed |w * dL/dw| of one batch's loss
    Snip,
    /// synflow and the parameter count, standardised on 64 random architectures of the
    /// space (data-free; the recommended score)
    ZeroCost,
}

impl ProxyName {
    /// The library's proxy.
    pub fn proxy(self) -> ZeroCostProxy {
        match self {
            Self::Synflow => ZeroCostProxy::Synflow,
            Self::Naswot => ZeroCostProxy::Naswot,
            Self::GradNorm => ZeroCostProxy::GradNorm,
            Self::Snip => ZeroCostProxy::Snip,
            Self::ZeroCost => ZeroCostProxy::ZeroCost,
        }
    }
}

/// A parsed architecture of one of the built-in spaces.
enum Parsed {
    Nb201(crate::Architecture),
    Darts(Genotype),
    Mbconv(crate::Architecture),
}

/// The evaluation network of each built-in space at the options' width and depth.
struct Networks {
    nb201: Nb201NetworkSpec,
    darts: EvalNetworkConfig,
    mbconv: MbConvNetworkSpec,
    mbconv_space: MbConvSpace,
}

impl Networks {
    /// The networks of `--channels` and `--cells`, for `classes` classes and images of
    /// `in_channels` channels.
    fn new(args: &ScoreArgs, mbconv: MbConvSpace, classes: usize, in_channels: usize) -> Self {
        let channels = args.channels.unwrap_or(16) as usize;
        let cells = args.cells.unwrap_or(5) as usize;
        let nb201 = Nb201NetworkSpec::new(
            Nb201NetworkConfig::new(channels, cells, classes).with_in_channels(in_channels),
        );
        let darts = EvalNetworkConfig::new(channels, cells, classes).with_in_channels(in_channels);
        let mbconv_spec = MbConvNetworkSpec::new(
            mbconv.clone(),
            MbConvNetworkConfig::new(classes).with_in_channels(in_channels),
        );
        Self {
            nb201,
            darts,
            mbconv: mbconv_spec,
            mbconv_space: mbconv,
        }
    }

    /// zero-cost's standardisation, fitted on a reference sample of `space`.
    fn zero_cost<B: AutodiffBackend>(
        &self,
        space: SpaceName,
        seed: u64,
        input: &ProxyInput<B>,
        device: &B::Device,
    ) -> Result<Option<ZeroCost>, CliError> {
        let config = ProxyScorerConfig::new(ZeroCostProxy::ZeroCost).with_seed(seed);
        let input = input.clone();
        let device = device.clone();
        Ok(match space {
            SpaceName::Nb201 => config
                .init(self.nb201.clone(), &Nb201Space::new(), input, device)?
                .zero_cost()
                .copied(),
            SpaceName::Darts | SpaceName::Tnd => {
                let darts_space = match space {
                    SpaceName::Tnd => DartsSpaceConfig::tnd().init()?,
                    _ => DartsSpaceConfig::darts().init()?,
                };
                let spec = DartsNetworkSpec::new(darts_space.clone(), self.darts.clone());
                config
                    .init(spec, &darts_space, input, device)?
                    .zero_cost()
                    .copied()
            }
            SpaceName::Mbconv => config
                .init(self.mbconv.clone(), &self.mbconv_space, input, device)?
                .zero_cost()
                .copied(),
        })
    }

    /// The score of `proxy` for one architecture, its network initialised from `seed`
    /// (zero-cost with its standardisation `zero_cost`), or why there is none.
    fn score<B: AutodiffBackend>(
        &self,
        arch: &Parsed,
        proxy: ZeroCostProxy,
        zero_cost: Option<&ZeroCost>,
        seed: u64,
        input: &ProxyInput<B>,
        device: &B::Device,
    ) -> Result<f64, String> {
        let score_with = |proxy| match arch {
            Parsed::Nb201(a) => scored(
                proxy,
                seeded_module::<B, _, _>(device, seed, || self.nb201.build::<B>(a, device)),
                input,
            ),
            Parsed::Darts(g) => scored(
                proxy,
                seeded_module::<B, _, _>(device, seed, || self.darts.init::<B>(g, device)),
                input,
            ),
            Parsed::Mbconv(a) => scored(
                proxy,
                seeded_module::<B, _, _>(device, seed, || self.mbconv.build::<B>(a, device)),
                input,
            ),
        };
        match (proxy, zero_cost) {
            (ZeroCostProxy::ZeroCost, Some(zc)) => {
                let params = match arch {
                    Parsed::Nb201(a) => self.nb201.param_count(a).map_err(|e| e.to_string()),
                    Parsed::Darts(g) => Ok(self.darts.param_count(g)),
                    Parsed::Mbconv(a) => self.mbconv.param_count(a).map_err(|e| e.to_string()),
                };
                score_with(ZeroCostProxy::Synflow).and_then(|s| params.map(|p| zc.score(s, p)))
            }
            (proxy, _) => score_with(proxy),
        }
    }
}

impl ScoreArgs {
    /// The options with every default filled in.
    ///
    /// # Errors
    /// [`CliError::Usage`] for a missing `--archs` or `--out`, or a data-dependent proxy
    /// without `--dataset`.
    pub fn effective(&self) -> Result<Self, CliError> {
        if self.archs.is_none() {
            return Err(CliError::usage("--archs FILE.csv is required"));
        }
        if self.out.is_none() {
            return Err(CliError::usage("--out FILE.csv is required"));
        }
        let proxy = if self.proxy.is_empty() {
            vec![ProxyName::Synflow]
        } else {
            self.proxy.clone()
        };
        if let Some(p) = proxy.iter().find(|p| p.proxy().needs_data())
            && self.dataset.is_none()
        {
            return Err(CliError::usage(format!(
                "--proxy {} needs --dataset (the images it reads)",
                p.proxy()
            )));
        }
        for (i, p) in proxy.iter().enumerate() {
            if proxy[..i].contains(p) {
                return Err(CliError::usage(format!(
                    "--proxy {} is given twice",
                    p.proxy()
                )));
            }
        }
        let space = self.space.unwrap_or(SpaceName::Nb201);
        let cells = match space {
            SpaceName::Nb201 => 5,
            _ => 8,
        };
        Ok(Self {
            space: Some(space),
            arch_column: Some(self.arch_column.clone().unwrap_or_else(|| "arch".into())),
            proxy,
            channels: Some(self.channels.unwrap_or(16)),
            cells: Some(self.cells.unwrap_or(cells)),
            seed: Some(self.seed.unwrap_or(0)),
            device: Some(self.device.unwrap_or_default()),
            ..self.clone()
        })
    }

    /// Scores every architecture of `--archs` and writes `--out`.
    ///
    /// # Errors
    /// Any [`CliError`]: bad options, an unreadable or malformed file, an architecture
    /// that does not parse (named with its line), an existing `--out`, an unreadable
    /// dataset, a score that is not finite.
    pub fn run(&self) -> Result<(), CliError> {
        let args = self.effective()?;
        with_backend!(args.device.unwrap_or_default(), |B, device| args
            .run_on::<B>(device))
    }

    fn run_on<B: AutodiffBackend>(&self, device: B::Device) -> Result<(), CliError> {
        let (Some(path), Some(out)) = (&self.archs, &self.out) else {
            return Err(CliError::usage("--archs and --out are required"));
        };
        let _lock = OutputFile::open(out, self.force, &[path])?;
        let table = CsvTable::from_path(path).map_err(|e| CliError::Input(e.to_string()))?;
        let space = self.space.unwrap_or(SpaceName::Nb201);
        let mbconv = MbConvSpace::mobilenet_v2();
        // Every row is checked before any network is built.
        let (texts, parsed) = self.parse_rows(path, &table, space, &mbconv)?;
        let (input, classes) = self.input::<B>(&device)?;
        let proxies: Vec<ZeroCostProxy> = self.proxy.iter().map(|p| p.proxy()).collect();
        let networks = Networks::new(self, mbconv, classes, input.shape[0]);
        let seed = self.seed.unwrap_or(0);
        // zero-cost's standardisation, fitted on a reference sample of the space.
        let zero_cost = if proxies.contains(&ZeroCostProxy::ZeroCost) {
            networks.zero_cost(space, seed, &input, &device)?
        } else {
            None
        };
        let bar = progress(parsed.len() as u64);
        let mut lines = vec![
            std::iter::once("arch".to_string())
                .chain(proxies.iter().map(|p| p.to_string()))
                .collect::<Vec<_>>()
                .join(","),
        ];
        for ((p, text), row) in parsed.iter().zip(&texts).zip(table.rows()) {
            let mut fields = vec![csv_field(text)];
            for &proxy in &proxies {
                let value = networks
                    .score(p, proxy, zero_cost.as_ref(), seed, &input, &device)
                    .map_err(|e| {
                        CliError::Input(format!(
                            "{}, line {}: architecture `{text}`: {e}",
                            path.display(),
                            row.line
                        ))
                    })?;
                fields.push(format!("{value:e}"));
            }
            lines.push(fields.join(","));
            bar.inc(1);
        }
        bar.finish_and_clear();
        let text = lines.join("\n") + "\n";
        crate::atomic_write::write(out, text.as_bytes()).map_err(|e| CliError::io(out, e))?;
        eprintln!(
            "{} architecture(s) scored with {} into {}",
            parsed.len(),
            proxies
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            out.display()
        );
        Ok(())
    }

    /// The text and the parsed architecture of every row of `table` (from `path`), in
    /// order; the first row that does not parse is named with its line.
    fn parse_rows(
        &self,
        path: &Path,
        table: &CsvTable,
        space: SpaceName,
        mbconv: &MbConvSpace,
    ) -> Result<(Vec<String>, Vec<Parsed>), CliError> {
        let column = self.arch_column.clone().unwrap_or_else(|| "arch".into());
        let Some(col) = table.header().iter().position(|h| *h == column) else {
            return Err(CliError::Input(format!(
                "{}: no column `{column}` (columns: {})",
                path.display(),
                table.header().join(", ")
            )));
        };
        let mut texts = Vec::with_capacity(table.rows().len());
        let mut parsed = Vec::with_capacity(table.rows().len());
        for row in table.rows() {
            let text = row.fields[col].clone();
            let bad = |e: String| {
                CliError::Input(format!(
                    "{}, line {}: architecture `{text}`: {e}",
                    path.display(),
                    row.line
                ))
            };
            parsed.push(match space {
                SpaceName::Nb201 => Parsed::Nb201(
                    Nb201Space::new()
                        .parse(&text)
                        .map_err(|e| bad(e.to_string()))?,
                ),
                SpaceName::Darts | SpaceName::Tnd => Parsed::Darts(
                    text.parse()
                        .map_err(|e: crate::space::SpaceError| bad(e.to_string()))?,
                ),
                SpaceName::Mbconv => {
                    Parsed::Mbconv(mbconv.parse(&text).map_err(|e| bad(e.to_string()))?)
                }
            });
            texts.push(text);
        }
        if parsed.is_empty() {
            return Err(CliError::Input(format!(
                "{}: no architectures (only a header)",
                path.display()
            )));
        }
        Ok((texts, parsed))
    }

    /// The proxies' input shape and batch, and the number of classes.
    fn input<B: AutodiffBackend>(
        &self,
        device: &B::Device,
    ) -> Result<(ProxyInput<B>, usize), CliError> {
        let needs_data = self.proxy.iter().any(|p| p.proxy().needs_data());
        super::proxy_objective::proxy_input(
            self.dataset,
            self.data_dir.as_deref(),
            needs_data.then(|| self.proxy_batch.unwrap_or(64) as usize),
            self.seed.unwrap_or(0),
            device,
        )
    }
}

/// The score of a network that was built, or why it was not.
fn scored<B, M, E>(
    proxy: ZeroCostProxy,
    network: Result<M, E>,
    input: &ProxyInput<B>,
) -> Result<f64, String>
where
    B: AutodiffBackend,
    M: AutodiffModule<B> + ImageClassifier<B>,
    M::InnerModule: ImageClassifier<B::InnerBackend>,
    E: std::fmt::Display,
{
    let network = network.map_err(|e| e.to_string())?;
    crate::proxy::score(proxy, network, input).map_err(|e| e.to_string())
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// A bar on stderr when it is a terminal, nothing otherwise.
fn progress(len: u64) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "scoring {bar:40} {pos}/{len} architectures, {per_sec}, eta {eta}",
    ) {
        bar.set_style(style);
    }
    bar
}
