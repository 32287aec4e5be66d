//! Objectives (what is measured), rewards (how measurements become the scalar the policy
//! maximises) and the Pareto archive of everything scored.

mod chebyshev;
mod csv;
mod error;
mod fn_reward;
mod forward_probe;
mod hard_constraint;
mod hypervolume;
mod latency;
mod lookup_table;
mod mnas_reward;
mod nb201_cifar10;
mod network_count;
#[allow(clippy::module_inception)]
mod objective;
mod pareto_archive;
mod pareto_preferences;
mod reward;
mod reward_spec;
mod tabular;
mod validation_accuracy;
mod weighted_sum;

pub use crate::network::EvalNetworkSpec;
pub use chebyshev::Chebyshev;
pub use csv::{CsvRecord, CsvTable};
pub use error::ObjectiveError;
pub use fn_reward::FnReward;
pub use forward_probe::ForwardProbe;
pub use hard_constraint::HardConstraint;
pub use hypervolume::{dominates, hypervolume};
pub use latency::{Latency, LatencyConfig, LatencyProbe};
pub use lookup_table::LookupTable;
pub use mnas_reward::MnasReward;
pub use nb201_cifar10::{NB201_ARCH_COLUMN, NB201_CIFAR10_ACCURACY, NB201_SYNFLOW};
pub use network_count::{Counted, Macs, MultiplyAccumulates, NetworkCount, ParamCount, Parameters};
pub use objective::{Direction, Objective, ObjectiveContext, evaluate_all};
pub use pareto_archive::{ParetoArchive, ScoredSample};
pub use pareto_preferences::ParetoPreferences;
pub use reward::{Reward, RewardContext};
pub use reward_spec::reward_from_spec;
pub use tabular::{Tabular, TabularTable};
pub use validation_accuracy::ValidationAccuracy;
pub use weighted_sum::WeightedSum;
