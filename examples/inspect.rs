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
//!
//! The `tnd-nas inspect` command under its old name: every flag is the same, parsed and run
//! by the same code (`tnd_nas::cli`); `--help` lists them.

fn main() -> std::process::ExitCode {
    tnd_nas::cli::run_as("inspect", "inspect")
}
