//! TND-NAS, random search or regularised evolution on a NAS-Bench-201-style benchmark
//! table.
//!
//! ```text
//! cargo run --release --example tabular_search -- [--table FILE.csv --arch-column NAME] \
//!     [--objective table:COLUMN:max] [--objective params:min] [--objective macs:min] \
//!     [--reward mnas:target=T,exponent=W | sum:W1,W2 | chebyshev:W1,W2 | hard:limit=L | front[:K]] \
//!     [--strategy tnd|random|rea|ls] [--updater default|paper] [--schedule one|nb201] \
//!     [--lr LR] [--spread D] [--samples M] --budget N --seed S --out result.json
//! ```
//!
//! - Without `--table`, the NAS-Bench-201 CIFAR-10 table bundled with the crate
//!   (`TabularTable::nb201_cifar10`, arch column `arch`) is searched, and the objective
//!   defaults to its accuracy, `table:cifar10_test_acc_200ep:max`.
//! - `table:COLUMN:max|min`: a numeric column of the table.
//! - `params:min` / `macs:min`: trainable parameters / MACs (32x32 input) of the NB201
//!   network (C = 16, 5 cells per stage, 10 classes), in millions.
//! - `mnas`: `acc * (cost / T) ^ W` with acc the first maximised objective and cost the
//!   first minimised one; `T` and `W` may list one value per stage, `T1/T2/T3`.
//! - `sum`: weights of a direction-aware weighted sum; `chebyshev`: weights of a
//!   Chebyshev scalarisation whose ideal point is the table's best value for table
//!   columns and 0 for parameters and MACs; `hard:limit=L`: accuracy while cost <= L;
//!   `front` or `front:K`: a Pareto front from one search (K = 7 preferences, one TND
//!   policy each, objectives compared in quantiles of the samples so far).
//! - With one objective the reward defaults to that objective.
//! - `--budget` counts distinct architectures scored: a table lookup is exact, so a
//!   repeat is rewarded with its first score and costs nothing (for every strategy).
//! - `--updater`: `default` (rank advantages, a step size tied to the stage's planned
//!   updates) or `paper` (the paper's REINFORCE: moving baseline, Adam lr 1e-2).
//!   `--lr` sets a fixed Adam learning rate (no stage spread); `--spread D` sets the
//!   stage spread (alpha moves about D logits per stage).
//! - The JSON holds `best` and `final` (each with `arch` and `objectives`), `front`, and,
//!   with two or more objectives, `hypervolume` (`value` and its `reference` point).
//! - `--schedule`: `one` (default: one stage, all but one op dropped at its end) or
//!   `nb201` (three stages dropping 2, 1, 1 ops per edge).
//! - `--strategy`: `tnd` (default), `random`, `rea` (regularised evolution, P = 10,
//!   S = 3; `rea:population=P,tournament=S`) or `ls` (local search from the best of 10
//!   random cells; `ls:init=N`). Random search, evolution and local search return their
//!   best-rewarded sample; all four report it as `best`.
//!
//! The `tnd-nas tabular` command under its old name: every flag is the same, parsed and run
//! by the same code (`tnd_nas::cli`); `--help` lists them.

fn main() -> std::process::ExitCode {
    tnd_nas::cli::run_as("tabular_search", "tabular")
}
