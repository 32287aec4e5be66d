//! A supernet search (TND-NAS, random search or regularised evolution) on CIFAR-10,
//! CIFAR-100 or Fashion-MNIST.
//!
//! ```text
//! cargo run --release --example cifar_search -- --dataset cifar10 --data-dir DIR --out DIR \
//!     [--preset paper|quick|cpu] [--device cpu|cuda] [--seed N] [--resume] \
//!     [--objective acc] [--objective params] [--objective macs] [--objective latency] \
//!     [--reward mnas:target=4.4/3.2/2.5,exponent=-0.3 | hard:limit=3 | sum:1,10 | chebyshev:1,1] \
//!     [--mode weighted|single-path] [--max-steps N] [--strategy tnd|random|rea|ls]
//! ```
//!
//! `--preset`: `paper` (default; the paper's schedule and REINFORCE, hours on a GPU),
//! `quick` (minutes on a CPU, a few hundred images per stage) or `cpu` (single-path on a
//! full training set in about 20 minutes on 2 CPU cores: `SearchConfig::cpu`).
//!
//! `--strategy` (default `tnd`): `random` samples uniformly, `rea` evolves (P = 10,
//! S = 3; `rea:population=P,tournament=S`) and `ls` climbs one-edge neighbours
//! (`ls:init=N`), all scored by the same supernet, which then trains uniformly over every
//! op; they return their best-rewarded sample.
//!
//! Objectives: `acc` (supernet validation accuracy, max), `params` (evaluation-network
//! parameters in millions, min), `macs` (millions, min), `latency` (ms of one forward
//! pass of the evaluation network on the CPU, batch 1, min). Default: `acc` and `params`
//! with `mnas:target=4.4/3.2/2.5,exponent=-0.3`.
//!
//! Outputs in `--out` (`docs/outputs.md` says what each holds): `search.jsonl`,
//! `result.json`, `genotype.txt`, `cells.dot`, the plots, and `checkpoint/` (continue
//! with `--resume`). `--device cuda` needs a build with `--features cuda`.
//!
//! The `tnd-nas search` command under its old name: every flag is the same, parsed and run
//! by the same code (`tnd_nas::cli`); `--help` lists them.

fn main() -> std::process::ExitCode {
    tnd_nas::cli::run_as("cifar_search", "search")
}
