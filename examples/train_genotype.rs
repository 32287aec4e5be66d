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
//!
//! The `tnd-nas retrain` command under its old name: every flag is the same, parsed and run
//! by the same code (`tnd_nas::cli`); `--help` lists them.

fn main() -> std::process::ExitCode {
    tnd_nas::cli::run_as("train_genotype", "retrain")
}
