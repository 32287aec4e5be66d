//! The program: parse, dispatch, report.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{ArgMatches, CommandFactory, Parser, Subcommand};

use super::config_file::{CommandArgs, command_args, first_line, one_line, resolve, to_toml};
use super::{
    CliError, ExportArgs, FidelityArgs, InspectArgs, PlotArgs, RetrainArgs, ScoreArgs, SearchArgs,
    TabularArgs,
};

command_args!(
    SearchArgs,
    RetrainArgs,
    InspectArgs,
    TabularArgs,
    PlotArgs,
    ExportArgs,
    FidelityArgs,
    ScoreArgs
);

/// The `tnd-nas` command line.
#[derive(Debug, Parser)]
#[command(
    name = "tnd-nas",
    version,
    about = "Neural architecture search for objectives gradient descent cannot see \
             (parameters, MACs, latency, ...): TND-NAS, random search and evolution",
    after_help = "Each command's --help lists its options. Exit status: 0 success, \
                  1 failure, 2 usage error."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Search a DARTS cell on image data with a supernet (TND-NAS, random or evolution)
    Search(SearchArgs),
    /// Retrain a genotype's evaluation network from scratch and report its test accuracy
    Retrain(RetrainArgs),
    /// Parameter counts, MACs and Graphviz drawings of evaluation networks
    Inspect(InspectArgs),
    /// Search a benchmark table (NAS-Bench-201 bundled) in milliseconds
    Tabular(TabularArgs),
    /// Draw the plots of a search's output folder (front, alpha per stage, curves)
    Plot(PlotArgs),
    /// Export a retrained network as safetensors in the reference PyTorch names
    Export(ExportArgs),
    /// How well an evaluator (params, MACs, a supernet) ranks a ground truth's cells
    Fidelity(FidelityArgs),
    /// Zero-cost proxy scores (synflow, naswot, grad-norm, snip) of a file of architectures
    Score(ScoreArgs),
}

/// Runs the program on the process's arguments and returns its exit status.
pub fn main() -> ExitCode {
    run_matches(Cli::command(), None, std::env::args_os())
}

/// Runs the program on `args` (the program's name first, as `std::env::args_os` gives
/// it) and returns its exit status: the command line of another program, a test or a
/// fuzz target.
///
/// ```
/// let status = tnd_nas::cli::run_args(["tnd-nas", "tabular", "--budget", "0"]);
/// assert_eq!(status, std::process::ExitCode::from(2)); // a usage error
/// ```
pub fn run_args<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    run_matches(Cli::command(), None, args.into_iter().map(Into::into))
}

/// Runs one subcommand as a program of its own named `name` (the examples
/// `cifar_search`, `train_genotype`, `inspect`, `tabular_search`), on the process's
/// arguments. An unknown `subcommand` exits with status 2.
pub fn run_as(name: &'static str, subcommand: &str) -> ExitCode {
    let Some(command) = Cli::command().find_subcommand(subcommand).cloned() else {
        eprintln!("error: no subcommand `{subcommand}`");
        return ExitCode::from(2);
    };
    run_matches(command.name(name), Some(subcommand), std::env::args_os())
}

fn run_matches(
    command: clap::Command,
    only: Option<&str>,
    args: impl IntoIterator<Item = OsString>,
) -> ExitCode {
    let name = command.get_name().to_string();
    let matches = match command.try_get_matches_from(args) {
        Ok(m) => m,
        Err(e) => {
            use clap::error::ErrorKind;
            return match e.kind() {
                ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                    let _ = e.print();
                    if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                        ExitCode::from(2)
                    } else {
                        ExitCode::SUCCESS
                    }
                }
                _ => {
                    eprintln!(
                        "error: {} (see {} --help)",
                        first_line(&e),
                        command_of(&e, &name)
                    );
                    ExitCode::from(2)
                }
            };
        }
    };
    let result = match only {
        Some(sub) => dispatch(sub, &matches),
        None => match matches.subcommand() {
            Some((sub, m)) => dispatch(sub, m),
            None => Err(CliError::usage("no command given (see --help)")),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::from(e.exit_code())
        }
    }
}

/// The command a clap error is about (`tnd-nas search`), from its usage line.
fn command_of(e: &clap::Error, program: &str) -> String {
    let text = e.render().to_string();
    text.lines()
        .find_map(|l| l.trim().strip_prefix("Usage: "))
        .map(|usage| {
            usage
                .split_whitespace()
                .take_while(|w| !w.starts_with(['[', '<', '-']))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| program.to_string())
}

/// Resolves a subcommand's options and runs it, or prints its configuration.
fn dispatch(sub: &str, matches: &ArgMatches) -> Result<(), CliError> {
    match sub {
        "search" => go(matches, SearchArgs::run, SearchArgs::effective),
        "retrain" => go(matches, RetrainArgs::run, RetrainArgs::effective),
        "inspect" => go(matches, InspectArgs::run, InspectArgs::effective),
        "tabular" => go(matches, TabularArgs::run, TabularArgs::effective),
        "plot" => go(matches, PlotArgs::run, PlotArgs::effective),
        "export" => go(matches, ExportArgs::run, ExportArgs::effective),
        "fidelity" => go(matches, FidelityArgs::run, FidelityArgs::effective),
        "score" => go(matches, ScoreArgs::run, ScoreArgs::effective),
        other => Err(CliError::usage(format!("unknown command `{other}`"))),
    }
}

fn go<A: CommandArgs>(
    matches: &ArgMatches,
    run: fn(&A) -> Result<(), CliError>,
    effective: fn(&A) -> Result<A, CliError>,
) -> Result<(), CliError> {
    let args: A = resolve(matches)?;
    if args.flags().print_config {
        print!("{}", to_toml(&effective(&args)?)?);
        return Ok(());
    }
    run(&args)
}

/// Runs `f` with the backend `device` names: `Autodiff<Flex>` on the CPU, `Autodiff<Cuda>`
/// on a GPU (a missing driver or device is an error, not a panic).
macro_rules! with_backend {
    ($device:expr, |$b:ident, $dev:ident| $body:expr) => {{
        match $device {
            $crate::cli::DeviceName::Cpu => {
                type $b = burn::backend::Autodiff<burn::backend::Flex>;
                let $dev = Default::default();
                $body
            }
            $crate::cli::DeviceName::Cuda => {
                #[cfg(feature = "cuda")]
                {
                    type $b = burn::backend::Autodiff<burn::backend::Cuda>;
                    let $dev = $crate::cli::program::cuda_device()?;
                    $body
                }
                #[cfg(not(feature = "cuda"))]
                {
                    Err($crate::cli::CliError::usage(
                        "--device cuda needs a build with the cuda feature \
                         (cargo install --path . --features cuda)",
                    ))
                }
            }
        }
    }};
}
pub(crate) use with_backend;

/// The first CUDA device, probed: cubecl panics (on its own thread first) when no
/// driver or device is present, so the probe catches it and reports the first message.
#[cfg(feature = "cuda")]
pub(crate) fn cuda_device() -> Result<burn::backend::cuda::CudaDevice, CliError> {
    use std::sync::{Arc, Mutex};
    let first: Arc<Mutex<Option<String>>> = Arc::default();
    let seen = first.clone();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| info.payload().downcast_ref::<&str>().map(|s| s.to_string()));
        if let (Ok(mut first), Some(msg)) = (seen.lock(), msg)
            && first.is_none()
        {
            *first = Some(msg);
        }
    }));
    let probe = std::panic::catch_unwind(|| {
        let device = burn::backend::cuda::CudaDevice::default();
        let _ = burn::tensor::Tensor::<burn::backend::Cuda, 1>::zeros([1], &device).into_data();
        device
    });
    std::panic::set_hook(previous);
    probe.map_err(|_| {
        let msg = first
            .lock()
            .ok()
            .and_then(|m| m.clone())
            .unwrap_or_default();
        CliError::Input(format!(
            "no CUDA device available: {}",
            msg.lines().next().unwrap_or("unknown error")
        ))
    })
}
