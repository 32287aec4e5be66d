//! Inspect genotypes: parameter counts, MACs and Graphviz drawings of evaluation networks.
//!
//! ```text
//! cargo run --release --example inspect -- params --genotype TEXT_OR_FILE --channels 36 --layers 20 --classes 10 [--auxiliary]
//! cargo run --release --example inspect -- params --nb201 STRING --channels 16 --cells 5 --classes 10
//! cargo run --release --example inspect -- macs --genotype TEXT_OR_FILE --input 32
//! cargo run --release --example inspect -- params --mbconv e6_k3,e6_k3,... --classes 1000
//! cargo run --release --example inspect -- macs --mbconv TEXT_OR_FILE --classes 1000 --input 224
//! cargo run --release --example inspect -- dot --genotype TEXT_OR_FILE > cell.dot
//! ```
//!
//! `params` and `macs` print a short summary and then the number alone on the last line
//! of stdout. Bad arguments exit with status 2, bad genotypes or files with status 1, each
//! with a one-line `error: ...` on stderr.

use std::fmt;
use std::path::Path;
use std::process::ExitCode;

use tnd_nas::Genotype;
use tnd_nas::eval::{EvalNetworkConfig, MbConvNetworkConfig, Nb201NetworkConfig};
use tnd_nas::space::{MbConvSpace, Nb201Genotype, SpaceError};

const USAGE: &str = "\
inspect: parameter counts, MACs and Graphviz drawings of TND-NAS evaluation networks

USAGE:
    inspect params (--genotype TEXT_OR_FILE | --nb201 STRING_OR_FILE | --mbconv TEXT_OR_FILE) [OPTIONS]
    inspect macs   (--genotype TEXT_OR_FILE | --nb201 STRING_OR_FILE | --mbconv TEXT_OR_FILE) [OPTIONS] [--input 32]
    inspect dot    (--genotype TEXT_OR_FILE | --nb201 STRING_OR_FILE)
    inspect --help

COMMANDS:
    params    trainable parameters of the evaluation network (BN running stats excluded)
    macs      multiply-accumulates of one inference pass on one image (convolutions
              and classifier; BN, ReLU, pooling, additions and the auxiliary head excluded)
    dot       Graphviz DOT drawing of the cells (render with `dot -Tsvg`)

GENOTYPES:
    --genotype TEXT_OR_FILE  a DARTS-space genotype in DARTS notation `Genotype(...)` or
                             TND notation `TndGenotype(...)`, or a file containing one
    --nb201 STRING_OR_FILE   a NAS-Bench-201 string `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`,
                             or a file containing one
    --mbconv TEXT_OR_FILE    an MBConv chain on the MobileNetV2 backbone: 16 block choices
                             comma-separated (e3_k3 e3_k5 e3_k7 e6_k3 e6_k5 e6_k7, or skip on
                             blocks that do not open a stage), or a file containing them;
                             all e6_k3 is MobileNetV2 (width 1)

OPTIONS:
    --channels N      initial channels C (default 36 for --genotype, 16 for --nb201)
    --layers N        cells of the DARTS network (default 20; --genotype only)
    --cells N         cells per stage of the NAS-Bench-201 network (default 5; --nb201 only)
    --classes N       classes (default 10)
    --in-channels N   image channels (default 3)
    --auxiliary       include the auxiliary head in `params` (--genotype only)
    --input N         input side in pixels for `macs` (default 32; 224 for --mbconv)
    -h, --help        print this help

`params` and `macs` print a summary, then the number alone on the last line of stdout.
Options may also be written `--name=value`.";

/// Largest accepted value of the size options, so that the counts cannot overflow.
const MAX_CHANNELS: usize = 4096;
const MAX_LAYERS: usize = 1000;
const MAX_CLASSES: usize = 1_000_000;
const MAX_INPUT: usize = 4096;

/// Why the program stops.
#[derive(Debug)]
enum Failure {
    /// Bad command line (exit status 2).
    Usage(String),
    /// Bad genotype, unreadable file, unbuildable configuration (exit status 1).
    Input(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Usage(m) | Failure::Input(m) => f.write_str(m),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    Params,
    Macs,
    Dot,
}

/// The parsed command line.
#[derive(Debug, Default)]
struct Args {
    command: Option<Command>,
    genotype: Option<String>,
    nb201: Option<String>,
    mbconv: Option<String>,
    channels: Option<usize>,
    layers: Option<usize>,
    cells: Option<usize>,
    classes: Option<usize>,
    in_channels: Option<usize>,
    input: Option<usize>,
    auxiliary: bool,
    help: bool,
}

fn main() -> ExitCode {
    // Last line of defence: a bug in the library must still end in one line on stderr.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        eprintln!("error: internal error: {}", one_line(&msg));
    }));
    let args: Vec<String> = std::env::args().skip(1).collect();
    match std::panic::catch_unwind(|| run(&args)) {
        Ok(Ok(output)) => {
            print!("{output}");
            ExitCode::SUCCESS
        }
        Ok(Err(Failure::Usage(m))) => {
            eprintln!("error: {} (see --help)", one_line(&m));
            ExitCode::from(2)
        }
        Ok(Err(Failure::Input(m))) => {
            eprintln!("error: {}", one_line(&m));
            ExitCode::from(1)
        }
        Err(_) => ExitCode::from(101),
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

/// `text` with line breaks replaced by spaces.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Runs the command line and returns what to print on stdout.
fn run(raw: &[String]) -> Result<String, Failure> {
    let args = parse_args(raw)?;
    if args.help {
        return Ok(format!("{USAGE}\n"));
    }
    let command = args.command.ok_or_else(|| {
        Failure::Usage("no command given; expected `params`, `macs` or `dot`".into())
    })?;
    match (&args.genotype, &args.nb201, &args.mbconv) {
        (Some(text), None, None) => darts(command, &args, text),
        (None, Some(text), None) => nb201(command, &args, text),
        (None, None, Some(text)) => mbconv(command, &args, text),
        (None, None, None) => Err(Failure::Usage(
            "missing --genotype TEXT_OR_FILE, --nb201 STRING or --mbconv TEXT".into(),
        )),
        _ => Err(Failure::Usage(
            "give one of --genotype, --nb201 and --mbconv".into(),
        )),
    }
}

fn parse_args(raw: &[String]) -> Result<Args, Failure> {
    let mut args = Args::default();
    let mut i = 0;
    while i < raw.len() {
        let arg = raw[i].as_str();
        i += 1;
        if !arg.starts_with('-') {
            command_word(&mut args, arg)?;
            continue;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (arg, None),
        };
        match name {
            "-h" | "--help" => {
                args.help = true;
                continue;
            }
            "--auxiliary" => {
                if inline.is_some() {
                    return Err(Failure::Usage("--auxiliary takes no value".into()));
                }
                args.auxiliary = true;
                continue;
            }
            _ => {}
        }
        let mut value = || -> Result<String, Failure> {
            if let Some(v) = &inline {
                return Ok(v.clone());
            }
            match raw.get(i) {
                Some(v) if !v.starts_with("--") => {
                    i += 1;
                    Ok(v.clone())
                }
                _ => Err(Failure::Usage(format!("{name} needs a value"))),
            }
        };
        if !VALUE_OPTIONS.contains(&name) {
            return Err(Failure::Usage(format!(
                "unknown option `{}`",
                snippet(name)
            )));
        }
        set_option(&mut args, name, value()?)?;
    }
    Ok(args)
}

/// A command word (`params`, `macs`, `dot`, `help`).
fn command_word(args: &mut Args, arg: &str) -> Result<(), Failure> {
    let command = match arg {
        "params" => Command::Params,
        "macs" => Command::Macs,
        "dot" => Command::Dot,
        "help" => {
            args.help = true;
            return Ok(());
        }
        other => {
            return Err(Failure::Usage(if args.command.is_some() {
                format!("unexpected argument `{}`", snippet(other))
            } else {
                format!(
                    "unknown command `{}`; expected `params`, `macs` or `dot`",
                    snippet(other)
                )
            }));
        }
    };
    if args.command.replace(command).is_some() {
        return Err(Failure::Usage(format!(
            "unexpected argument `{arg}`: a command was already given"
        )));
    }
    Ok(())
}

/// The options that take a value.
const VALUE_OPTIONS: [&str; 9] = [
    "--genotype",
    "--nb201",
    "--mbconv",
    "--channels",
    "--layers",
    "--cells",
    "--classes",
    "--in-channels",
    "--input",
];

/// An option that takes a value (one of [`VALUE_OPTIONS`]).
fn set_option(args: &mut Args, name: &str, value: String) -> Result<(), Failure> {
    let size = |max: usize| number(name, &value, 1, max);
    match name {
        "--genotype" => set(&mut args.genotype, name, value),
        "--nb201" => set(&mut args.nb201, name, value),
        "--mbconv" => set(&mut args.mbconv, name, value),
        "--channels" => set(&mut args.channels, name, size(MAX_CHANNELS)?),
        "--layers" => set(&mut args.layers, name, size(MAX_LAYERS)?),
        "--cells" => set(&mut args.cells, name, size(MAX_LAYERS)?),
        "--classes" => set(&mut args.classes, name, size(MAX_CLASSES)?),
        "--in-channels" => set(&mut args.in_channels, name, size(MAX_CHANNELS)?),
        "--input" => set(&mut args.input, name, size(MAX_INPUT)?),
        other => Err(Failure::Usage(format!(
            "unknown option `{}`",
            snippet(other)
        ))),
    }
}

/// Stores an option value, refusing a second one.
fn set<T>(slot: &mut Option<T>, name: &str, value: T) -> Result<(), Failure> {
    if slot.replace(value).is_some() {
        return Err(Failure::Usage(format!("{name} given more than once")));
    }
    Ok(())
}

/// Parses a whole number in `min..=max`.
fn number(name: &str, text: &str, min: usize, max: usize) -> Result<usize, Failure> {
    match text.trim().parse::<usize>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        Ok(n) => Err(Failure::Usage(format!(
            "{name} must be between {min} and {max}, got {n}"
        ))),
        Err(_) => Err(Failure::Usage(format!(
            "{name} expects a whole number, got `{}`",
            snippet(text)
        ))),
    }
}

/// The text of a genotype option: the named file's contents if it names a file, else itself.
fn read_text(option: &str, value: &str) -> Result<(String, String), Failure> {
    let path = Path::new(value);
    if path.is_file() {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Failure::Input(format!(
                "cannot read {option} file `{}`: {e}",
                path.display()
            ))
        })?;
        Ok((text, format!("{option} file `{}`", path.display())))
    } else {
        Ok((value.to_string(), option.to_string()))
    }
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

fn darts(command: Command, args: &Args, value: &str) -> Result<String, Failure> {
    if args.cells.is_some() {
        return Err(Failure::Usage(
            "--cells applies to --nb201 networks; use --layers with --genotype".into(),
        ));
    }
    let (text, source) = read_text("--genotype", value)?;
    let genotype: Genotype = text
        .parse()
        .map_err(|e| Failure::Input(describe_error(&e, &source)))?;
    if command == Command::Dot {
        return Ok(genotype.to_dot());
    }
    let (channels, layers, classes) = (
        args.channels.unwrap_or(36),
        args.layers.unwrap_or(20),
        args.classes.unwrap_or(10),
    );
    let in_channels = args.in_channels.unwrap_or(3);
    let cfg = EvalNetworkConfig::new(channels, layers, classes)
        .with_auxiliary(args.auxiliary)
        .with_in_channels(in_channels);
    cfg.validate(&genotype)
        .map_err(|e| Failure::Input(format!("{e} in {source}")))?;
    check_magnitude(darts_bound(&cfg, &genotype, args.input.unwrap_or(32)))?;
    let network = format!(
        "DARTS evaluation network: C={channels}, {layers} layers, {classes} classes, \
         {in_channels} input channels"
    );
    let aux = if args.auxiliary { "with" } else { "without" };
    Ok(match command {
        Command::Params => summary(
            &format!("{network}, {aux} auxiliary head"),
            "trainable parameters",
            cfg.param_count(&genotype),
        ),
        _ => {
            let input = args.input.unwrap_or(32);
            let note = if args.auxiliary {
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

fn nb201(command: Command, args: &Args, value: &str) -> Result<String, Failure> {
    if args.layers.is_some() {
        return Err(Failure::Usage(
            "--layers applies to --genotype networks; use --cells (cells per stage) with --nb201"
                .into(),
        ));
    }
    if args.auxiliary {
        return Err(Failure::Usage(
            "--auxiliary applies to --genotype networks only".into(),
        ));
    }
    let (text, source) = read_text("--nb201", value)?;
    let genotype: Nb201Genotype = text
        .parse()
        .map_err(|e| Failure::Input(describe_error(&e, &source)))?;
    if command == Command::Dot {
        return Ok(genotype.to_dot());
    }
    let (channels, cells, classes) = (
        args.channels.unwrap_or(16),
        args.cells.unwrap_or(5),
        args.classes.unwrap_or(10),
    );
    let in_channels = args.in_channels.unwrap_or(3);
    let cfg = Nb201NetworkConfig::new(channels, cells, classes).with_in_channels(in_channels);
    check_magnitude(nb201_bound(&cfg, args.input.unwrap_or(32)))?;
    let network = format!(
        "NAS-Bench-201 network {genotype}: C={channels}, {cells} cells per stage, \
         {classes} classes, {in_channels} input channels"
    );
    Ok(match command {
        Command::Params => summary(&network, "trainable parameters", cfg.param_count(&genotype)),
        _ => {
            let input = args.input.unwrap_or(32);
            summary(
                &format!("{network}, {input}x{input} input"),
                "multiply-accumulates",
                cfg.macs(&genotype, input),
            )
        }
    })
}

fn mbconv(command: Command, args: &Args, value: &str) -> Result<String, Failure> {
    for (given, name) in [
        (args.layers.is_some(), "--layers"),
        (args.cells.is_some(), "--cells"),
        (args.channels.is_some(), "--channels"),
        (args.auxiliary, "--auxiliary"),
    ] {
        if given {
            return Err(Failure::Usage(format!(
                "{name} does not apply to --mbconv networks (the MobileNetV2 backbone fixes them)"
            )));
        }
    }
    if command == Command::Dot {
        return Err(Failure::Usage(
            "dot draws cells; an MBConv chain has none".into(),
        ));
    }
    let (text, source) = read_text("--mbconv", value)?;
    let space = MbConvSpace::mobilenet_v2();
    let arch = space
        .parse(text.trim())
        .map_err(|e| Failure::Input(describe_error(&e, &source)))?;
    let (classes, in_channels) = (args.classes.unwrap_or(10), args.in_channels.unwrap_or(3));
    let cfg = MbConvNetworkConfig::new(classes).with_in_channels(in_channels);
    let count =
        |r: Result<u64, SpaceError>| r.map_err(|e| Failure::Input(describe_error(&e, &source)));
    let network = format!(
        "MBConv chain (MobileNetV2 backbone, width 1) {}: {classes} classes, {in_channels} input channels",
        snippet(text.trim())
    );
    Ok(match command {
        Command::Params => summary(
            &network,
            "trainable parameters",
            count(cfg.param_count(&space, &arch))?,
        ),
        _ => {
            let input = args.input.unwrap_or(224);
            summary(
                &format!("{network}, {input}x{input} input"),
                "multiply-accumulates",
                count(cfg.macs(&space, &arch, input))?,
            )
        }
    })
}

/// An upper bound of any op's MACs per output pixel, in units of C^2 (C >= 1): the
/// largest is `conv_7x1_1x7` (14 C^2) or `sep_conv_7x7` (2 C^2 + 98 C <= 100 C^2).
const OP_MACS_PER_C2: f64 = 112.0;
/// Generous size of the auxiliary head, for the overflow bound.
const AUX_HEAD_FEATURES: f64 = 1.0e6;

/// An over-estimate of the MACs (and parameters) of a DARTS evaluation network.
fn darts_bound(cfg: &EvalNetworkConfig, genotype: &Genotype, side: usize) -> f64 {
    // Widest concat and most edges of either cell.
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
fn check_magnitude(bound: f64) -> Result<(), Failure> {
    if bound < 2f64.powi(62) {
        return Ok(());
    }
    Err(Failure::Input(format!(
        "this network is too large to count in 64 bits (up to ~{bound:.1e} MACs); \
         use smaller --channels, --layers/--cells, --input or genotype"
    )))
}

/// A summary line, a readable count, and the count alone on the last line.
fn summary(network: &str, what: &str, n: u64) -> String {
    format!("{network}\n{what}: {:.3} M\n{n}\n", n as f64 / 1e6)
}
