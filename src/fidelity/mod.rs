//! How well an evaluator ranks architectures: a ground truth of architectures trained
//! stand-alone, read and extended row by row, and the rank statistics that compare any
//! evaluator's scores with it (Kendall tau, Spearman rho, precision of the top, tau
//! within the better half).
//!
//! The bundled ground truth, `data/fm-nb201/ground-truth.csv`, holds NAS-Bench-201 cells
//! trained on Fashion-MNIST with one fixed protocol ([`GroundTruthProtocol`]);
//! `tnd-nas fidelity` scores its cells with an evaluator and prints the statistics.

mod error;
mod ground_truth;
mod probe;
mod protocol;
mod rank_stats;
mod supernet_scores;

pub use error::FidelityError;
pub use ground_truth::{GROUND_TRUTH_COLUMNS, GroundTruth, GroundTruthRow, TruthCell};
pub use probe::{ProbeHandle, ProbeScores, StageEndProbe};
pub use protocol::{GroundTruthProtocol, PROTOCOL_FILE};
pub use rank_stats::{
    RankReport, kendall_tau, precision_at_top, rank_mean, rank_report, spearman_rho,
    tau_within_better,
};
pub use supernet_scores::{SupernetScores, supernet_scores};
