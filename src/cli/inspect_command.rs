//! `tnd-nas inspect`: parameter counts, MACs and Graphviz drawings of evaluation networks.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::CliError;
use super::common::text_or_file;
use super::config_file::ConfigFlags;
use crate::Genotype;
use crate::space::SpaceError;
use crate::spaces::darts::EvalNetworkConfig;
use crate::spaces::mbconv::{MbConvNetworkConfig, MbConvSpace};
use crate::spaces::nb201::{Nb201Genotype, Nb201NetworkConfig};

/// What `inspect` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum InspectWhat {
    /// Trainable parameters of the evaluation network (BN running stats excluded)
    Params,
    /// Multiply-accumulates of one inference pass on one image (convolutions and
    /// classifier; BN, ReLU, pooling, additions and the auxiliary head excluded)
    Macs,
    /// Graphviz DOT drawing of the cells (render with `dot -Tsvg`)
    Dot,
}

/// Options of `tnd-nas inspect` (and of the `inspect` example). `params` and `macs`
/// print a summary, then the number alone on the last line of stdout.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
#[command(
    after_help = "Exactly one of --genotype, --nb201 and --mbconv. `params` and `macs` \
    print a summary, then the number alone on the last line of stdout."
)]
pub struct InspectArgs {
    /// What to report
    #[arg(value_enum)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub what: Option<InspectWhat>,
    /// A DARTS-space genotype, `Genotype(...)` or `TndGenotype(...)`, or a file holding one
    #[arg(long, value_name = "TEXT_OR_FILE")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub genotype: Option<PathBuf>,
    /// A NAS-Bench-201 string `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`, or a file holding one
    #[arg(long, value_name = "STRING_OR_FILE")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nb201: Option<PathBuf>,
    /// An MBConv chain on the MobileNetV2 backbone: 16 comma-separated block choices
    /// (e3_k3 e3_k5 e3_k7 e6_k3 e6_k5 e6_k7, or skip), or a file holding them
    #[arg(long, value_name = "TEXT_OR_FILE")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mbconv: Option<PathBuf>,
    /// Initial channels C [default: 36 for --genotype, 16 for --nb201]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=MAX_CHANNELS))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channels: Option<u64>,
    /// Cells of the DARTS network [default: 20] (--genotype only)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=MAX_LAYERS))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layers: Option<u64>,
    /// Cells per stage of the NAS-Bench-201 network [default: 5] (--nb201 only)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=MAX_LAYERS))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cells: Option<u64>,
    /// Classes [default: 10]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=MAX_CLASSES))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<u64>,
    /// Image channels [default: 3]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=MAX_CHANNELS))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_channels: Option<u64>,
    /// Input side in pixels for `macs` [default: 32; 224 for --mbconv]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=MAX_INPUT))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<u64>,
    /// Include the auxiliary head in `params` (--genotype only)
    #[arg(long)]
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub auxiliary: bool,
    #[command(flatten)]
    #[serde(skip)]
    #[allow(missing_docs)]
    pub flags: ConfigFlags,
}

/// Largest accepted value of the size options, so that the counts cannot overflow.
const MAX_CHANNELS: u64 = 4096;
const MAX_LAYERS: u64 = 1000;
const MAX_CLASSES: u64 = 1_000_000;
const MAX_INPUT: u64 = 4096;

impl InspectArgs {
    /// The options as given (inspect has no hidden defaults to resolve).
    ///
    /// # Errors
    /// None; the signature matches the other commands.
    pub fn effective(&self) -> Result<Self, CliError> {
        Ok(self.clone())
    }

    /// Prints the report on stdout.
    ///
    /// # Errors
    /// [`CliError::Usage`] for conflicting options, [`CliError::Input`] for a genotype
    /// that does not parse or a network too large to count.
    pub fn run(&self) -> Result<(), CliError> {
        print!("{}", self.report()?);
        Ok(())
    }

    /// The text `run` prints.
    ///
    /// # Errors
    /// As [`InspectArgs::run`].
    pub fn report(&self) -> Result<String, CliError> {
        let what = self.what.ok_or_else(|| {
            CliError::usage("no command given; expected `params`, `macs` or `dot`")
        })?;
        match (&self.genotype, &self.nb201, &self.mbconv) {
            (Some(text), None, None) => self.darts(what, text),
            (None, Some(text), None) => self.nb201(what, text),
            (None, None, Some(text)) => self.mbconv(what, text),
            (None, None, None) => Err(CliError::usage(
                "missing --genotype TEXT_OR_FILE, --nb201 STRING or --mbconv TEXT",
            )),
            _ => Err(CliError::usage(
                "give one of --genotype, --nb201 and --mbconv",
            )),
        }
    }

    fn darts(&self, what: InspectWhat, value: &Path) -> Result<String, CliError> {
        if self.cells.is_some() {
            return Err(CliError::usage(
                "--cells applies to --nb201 networks; use --layers with --genotype",
            ));
        }
        let (text, source) = text_or_file("--genotype", value.as_os_str())?;
        let genotype: Genotype = text
            .parse()
            .map_err(|e| CliError::Input(describe_error(&e, &source)))?;
        if what == InspectWhat::Dot {
            return Ok(genotype.to_dot());
        }
        genotype
            .check_reads_inputs()
            .map_err(|e| CliError::Input(format!("{source}: {e}")))?;
        let channels = self.channels.unwrap_or(36) as usize;
        let layers = self.layers.unwrap_or(20) as usize;
        let classes = self.classes.unwrap_or(10) as usize;
        let in_channels = self.in_channels.unwrap_or(3) as usize;
        let input = self.input.unwrap_or(32) as usize;
        let cfg = EvalNetworkConfig::new(channels, layers, classes)
            .with_auxiliary(self.auxiliary)
            .with_in_channels(in_channels);
        cfg.validate(&genotype)
            .map_err(|e| CliError::Input(format!("{e} in {source}")))?;
        check_magnitude(darts_bound(&cfg, &genotype, input))?;
        let network = format!(
            "DARTS evaluation network: C={channels}, {layers} layers, {classes} classes, \
             {in_channels} input channels"
        );
        let aux = if self.auxiliary { "with" } else { "without" };
        Ok(match what {
            InspectWhat::Params => summary(
                &format!("{network}, {aux} auxiliary head"),
                "trainable parameters",
                cfg.param_count(&genotype),
            ),
            _ => {
                let note = if self.auxiliary {
                    " (auxiliary head not counted: it only runs in training)"
                } else {
                    ""
                };
                summary(
                    &format!("{network}, {input}x{input} input{note}"),
                    "multiply-accumulates",
                    cfg.macs(&genotype, input),
                )
            }
        })
    }

    fn nb201(&self, what: InspectWhat, value: &Path) -> Result<String, CliError> {
        if self.layers.is_some() {
            return Err(CliError::usage(
                "--layers applies to --genotype networks; use --cells (cells per stage) with --nb201",
            ));
        }
        if self.auxiliary {
            return Err(CliError::usage(
                "--auxiliary applies to --genotype networks only",
            ));
        }
        let (text, source) = text_or_file("--nb201", value.as_os_str())?;
        let genotype: Nb201Genotype = text
            .parse()
            .map_err(|e| CliError::Input(describe_error(&e, &source)))?;
        if what == InspectWhat::Dot {
            return Ok(genotype.to_dot());
        }
        let channels = self.channels.unwrap_or(16) as usize;
        let cells = self.cells.unwrap_or(5) as usize;
        let classes = self.classes.unwrap_or(10) as usize;
        let in_channels = self.in_channels.unwrap_or(3) as usize;
        let input = self.input.unwrap_or(32) as usize;
        let cfg = Nb201NetworkConfig::new(channels, cells, classes).with_in_channels(in_channels);
        check_magnitude(nb201_bound(&cfg, input))?;
        let network = format!(
            "NAS-Bench-201 network {genotype}: C={channels}, {cells} cells per stage, \
             {classes} classes, {in_channels} input channels"
        );
        Ok(match what {
            InspectWhat::Params => {
                summary(&network, "trainable parameters", cfg.param_count(&genotype))
            }
            _ => summary(
                &format!("{network}, {input}x{input} input"),
                "multiply-accumulates",
                cfg.macs(&genotype, input),
            ),
        })
    }

    fn mbconv(&self, what: InspectWhat, value: &Path) -> Result<String, CliError> {
        for (given, name) in [
            (self.layers.is_some(), "--layers"),
            (self.cells.is_some(), "--cells"),
            (self.channels.is_some(), "--channels"),
            (self.auxiliary, "--auxiliary"),
        ] {
            if given {
                return Err(CliError::usage(format!(
                    "{name} does not apply to --mbconv networks (the MobileNetV2 backbone fixes them)"
                )));
            }
        }
        if what == InspectWhat::Dot {
            return Err(CliError::usage("dot draws cells; an MBConv chain has none"));
        }
        let (text, source) = text_or_file("--mbconv", value.as_os_str())?;
        let space = MbConvSpace::mobilenet_v2();
        let arch = space
            .parse(text.trim())
            .map_err(|e| CliError::Input(describe_error(&e, &source)))?;
        let classes = self.classes.unwrap_or(10) as usize;
        let in_channels = self.in_channels.unwrap_or(3) as usize;
        let cfg = MbConvNetworkConfig::new(classes).with_in_channels(in_channels);
        let count = |r: Result<u64, SpaceError>| {
            r.map_err(|e| CliError::Input(describe_error(&e, &source)))
        };
        let network = format!(
            "MBConv chain (MobileNetV2 backbone, width 1) {}: {classes} classes, {in_channels} input channels",
            snippet(text.trim())
        );
        Ok(match what {
            InspectWhat::Params => summary(
                &network,
                "trainable parameters",
                count(cfg.param_count(&space, &arch))?,
            ),
            _ => {
                let input = self.input.unwrap_or(224) as usize;
                summary(
                    &format!("{network}, {input}x{input} input"),
                    "multiply-accumulates",
                    count(cfg.macs(&space, &arch, input))?,
                )
            }
        })
    }
}

/// The start of some user text, for an error message.
fn snippet(text: &str) -> String {
    let mut short: String = text.chars().take(40).collect();
    if short.len() < text.len() {
        short.push_str("...");
    }
    short
}

/// A parse error as `in SOURCE at byte N (NOTATION): what`.
fn describe_error(err: &SpaceError, source: &str) -> String {
    match err {
        SpaceError::Parse {
            notation,
            position,
            message,
        } => format!("in {source} at byte {position} ({notation}): {message}"),
        other => format!("{other} in {source}"),
    }
}

/// An upper bound of any op's MACs per output pixel, in units of C^2 (C >= 1): the
/// largest is `conv_7x1_1x7` (14 C^2) or `sep_conv_7x7` (2 C^2 + 98 C <= 100 C^2).
const OP_MACS_PER_C2: f64 = 112.0;
/// Generous size of the auxiliary head, for the overflow bound.
const AUX_HEAD_FEATURES: f64 = 1.0e6;

/// An over-estimate of the MACs (and parameters) of a DARTS evaluation network.
fn darts_bound(cfg: &EvalNetworkConfig, genotype: &Genotype, side: usize) -> f64 {
    let (concat, edges) = [&genotype.normal, &genotype.reduce]
        .iter()
        .map(|cell| {
            (
                cell.concat.len(),
                cell.nodes.iter().map(Vec::len).sum::<usize>(),
            )
        })
        .fold((1, 0), |(k, e), (k2, e2)| (k.max(k2), e.max(e2)));
    let (concat, edges) = (concat as f64, edges as f64);
    let stem = (cfg.stem_multiplier * cfg.channels) as f64;
    let (mut c, mut h, mut h_prev) = (cfg.channels as f64, side as f64, side as f64);
    let mut total = 9.0 * cfg.in_channels as f64 * stem * h * h;
    for i in 0..cfg.layers {
        let reduction = i == cfg.layers / 3 || i == 2 * cfg.layers / 3;
        if reduction {
            c *= 2.0;
        }
        // Inputs of at most max(stem, |concat| * C) channels at no more than the
        // previous cell's resolution: two preprocessing convs (FactorizedReduce counts
        // as two) and every edge op.
        let c_in = stem.max(concat * c);
        total += h_prev * h_prev * (4.0 * c_in * c + edges * OP_MACS_PER_C2 * c * c);
        h_prev = h;
        if reduction {
            h = (h / 2.0).ceil();
        }
    }
    total + (concat * c + AUX_HEAD_FEATURES) * (cfg.classes as f64 + AUX_HEAD_FEATURES)
}

/// An over-estimate of the MACs (and parameters) of a NAS-Bench-201 network.
fn nb201_bound(cfg: &Nb201NetworkConfig, side: usize) -> f64 {
    let (mut c, mut h) = (cfg.channels as f64, side as f64);
    let mut total = 9.0 * cfg.in_channels as f64 * c * h * h;
    for stage in 0..3 {
        // The residual block (two 3x3 convs and a 1x1 shortcut at 2C), then 6 ops per cell.
        let (convs, c_out) = if stage > 0 { (3.0, 2.0 * c) } else { (0.0, c) };
        total += h * h * 9.0 * (convs * c_out * c_out + 6.0 * cfg.cells as f64 * c_out * c_out);
        c = c_out;
        if stage > 0 {
            h = (h / 2.0).ceil();
        }
    }
    total + c * (cfg.classes as f64 + 1.0)
}

/// Refuses networks whose counts could overflow 64 bits (`bound` over-estimates them).
fn check_magnitude(bound: f64) -> Result<(), CliError> {
    if bound < 2f64.powi(62) {
        return Ok(());
    }
    Err(CliError::Input(format!(
        "this network is too large to count in 64 bits (up to ~{bound:.1e} MACs); \
         use smaller --channels, --layers/--cells, --input or genotype"
    )))
}

/// A summary line, a readable count, and the count alone on the last line.
fn summary(network: &str, what: &str, n: u64) -> String {
    format!("{network}\n{what}: {:.3} M\n{n}\n", n as f64 / 1e6)
}
