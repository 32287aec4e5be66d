//! What a search returns and writes.

use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{SearchError, SearchState, StageSummary};
use crate::SearchSpace;
use crate::objective::Direction;
use crate::policy::UpdateStats;
use crate::space::FinalArchitecture;

/// One scored sample, with its architecture as text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleRecord {
    /// The architecture as text (genotype or NAS-Bench-201 string).
    pub arch: String,
    /// Objective values, in the order of [`SearchResult::objectives`].
    pub objectives: Vec<f64>,
    /// Stage it was scored in.
    pub stage: usize,
    /// Search step it was scored at.
    pub step: u64,
}

/// The outcome of a search: the final architecture, the best-rewarded sample,
/// everything scored, the Pareto front, the per-stage probabilities and update history,
/// wall time and peak memory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResult {
    /// The space searched: its [`SearchSpace::id`] (`nb201`, the DARTS op sets, the
    /// MBConv stages). Empty in results written before it was recorded.
    #[serde(default)]
    pub space: String,
    /// The strategy that ran (`tnd`, `random`, `rea`, or a user strategy's name).
    pub strategy: String,
    /// The evaluator that scored (`supernet`, `table`, ...).
    pub evaluator: String,
    /// The final architecture in every notation: the strategy's recommendation (TND:
    /// what the shrinking left), or the best-rewarded sample.
    #[serde(rename = "final")]
    pub final_architecture: FinalArchitecture,
    /// The final architecture's reward with the last stage's settings, where every
    /// objective could be evaluated.
    pub final_reward: Option<f64>,
    /// The best-rewarded sample (every sample rewarded with the last stage's settings).
    pub best: Option<SampleRecord>,
    /// Its reward.
    pub best_reward: Option<f64>,
    /// Objective names.
    pub objectives: Vec<String>,
    /// Objective directions.
    pub directions: Vec<Direction>,
    /// The reward, with its settings ([`crate::objective::Reward::describe`]).
    #[serde(default)]
    pub reward: String,
    /// Objective values of the final architecture (`None` where an objective could
    /// not be evaluated, e.g. accuracy without a supernet score).
    pub final_values: Vec<Option<f64>>,
    /// The final architecture's accuracy in the last stage's supernet (percent).
    pub final_supernet_accuracy: Option<f64>,
    /// Trainable parameters of the final architecture's evaluation network.
    pub final_params: Option<u64>,
    /// Number of scored samples.
    pub sample_count: usize,
    /// Every scored sample, in order.
    pub samples: Vec<SampleRecord>,
    /// The non-dominated samples.
    pub front: Vec<SampleRecord>,
    /// The hypervolume of the front, with two or more objectives.
    #[serde(default)]
    pub hypervolume: Option<FrontHypervolume>,
    /// Per-stage summaries with the final probabilities of every edge (strategies
    /// with a policy).
    pub stages: Vec<StageSummary>,
    /// Statistics of every policy update (strategies with a policy).
    pub history: Vec<UpdateStats>,
    /// Wall time of the whole search (seconds, across resumes).
    pub wall_seconds: f64,
    /// Peak resident memory of the process (bytes), where the OS reports it.
    pub peak_memory_bytes: Option<u64>,
}

/// The hypervolume the front dominates and the reference point that bounds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrontHypervolume {
    /// The hypervolume, in the product of the objectives' units.
    pub value: f64,
    /// The reference point: the worst value of every objective over all scored samples
    /// ([`crate::objective::ParetoArchive::nadir`]). Compare hypervolumes of several
    /// searches only at one reference point: recompute them with
    /// [`crate::objective::hypervolume`] from each result's `front`.
    pub reference: Vec<f64>,
}

/// The final architecture and its evaluation, as the executor hands them over.
pub(crate) struct FinalOutcome {
    pub architecture: FinalArchitecture,
    pub values: Vec<Option<f64>>,
    pub reward: Option<f64>,
    pub supernet_accuracy: Option<f64>,
    pub best: Option<(usize, f64)>,
    pub params: Option<u64>,
    pub wall_seconds: f64,
}

impl SearchResult {
    pub(crate) fn new(outcome: FinalOutcome, state: &SearchState, space: &dyn SearchSpace) -> Self {
        let archive = &state.archive;
        let record = |s: &crate::objective::ScoredSample| SampleRecord {
            arch: space.describe(&s.arch),
            objectives: s.values.clone(),
            stage: s.stage,
            step: s.step,
        };
        let samples: Vec<SampleRecord> = archive.samples().iter().map(record).collect();
        Self {
            space: state.space_id.clone(),
            strategy: state.strategy_name.clone(),
            evaluator: state.evaluator_name.clone(),
            final_architecture: outcome.architecture,
            final_reward: outcome.reward,
            best: outcome.best.and_then(|(i, _)| samples.get(i).cloned()),
            best_reward: outcome.best.map(|(_, r)| r),
            objectives: archive.names().to_vec(),
            directions: archive.directions().to_vec(),
            reward: state.reward.clone(),
            final_values: outcome.values,
            final_supernet_accuracy: outcome.supernet_accuracy,
            final_params: outcome.params,
            sample_count: samples.len(),
            front: archive.front().into_iter().map(record).collect(),
            hypervolume: (archive.directions().len() >= 2)
                .then(|| archive.nadir())
                .flatten()
                .and_then(|reference| {
                    let value = archive.hypervolume(&reference).ok()?;
                    Some(FrontHypervolume { value, reference })
                }),
            samples,
            stages: state.stages.clone(),
            history: state.history.clone(),
            wall_seconds: outcome.wall_seconds,
            peak_memory_bytes: peak_memory_bytes(),
        }
    }

    /// Writes `result.json`, `genotype.txt` (the final genotype, one line),
    /// `genotype-darts.txt` (the same cells in the DARTS reference notation, when every
    /// node has two inputs) and `cells.dot` (Graphviz) into `dir`. The plots of a
    /// result are drawn by [`crate::plot::plot_result`] (front and alpha) and
    /// [`crate::plot::write_plots`] (all of them, from the files in a run directory).
    ///
    /// # Errors
    /// [`SearchError::Io`] when a file cannot be written.
    pub fn write_to(&self, dir: impl AsRef<Path>) -> Result<(), SearchError> {
        let dir = dir.as_ref();
        fs::create_dir_all(dir).map_err(|e| SearchError::io(dir, e))?;
        let write = |name: &str, bytes: &[u8]| {
            let path = dir.join(name);
            crate::atomic_write::write(&path, bytes).map_err(|e| SearchError::io(&path, e))
        };
        let json = serde_json::to_vec_pretty(self).map_err(|e| SearchError::Checkpoint {
            path: dir.join("result.json"),
            reason: e.to_string(),
        })?;
        write("result.json", &json)?;
        write(
            "genotype.txt",
            format!("{}\n", self.final_architecture.text).as_bytes(),
        )?;
        if let Some(d) = &self.final_architecture.darts_text {
            write("genotype-darts.txt", format!("{d}\n").as_bytes())?;
        }
        if let Some(dot) = self.dot() {
            write("cells.dot", dot.as_bytes())?;
        }
        Ok(())
    }

    /// Graphviz DOT of the final cells.
    pub fn dot(&self) -> Option<String> {
        match &self.final_architecture.genotype {
            Some(g) => Some(g.to_dot()),
            None => self
                .final_architecture
                .text
                .parse::<crate::spaces::nb201::Nb201Genotype>()
                .ok()
                .map(|g| g.to_dot()),
        }
    }
}

/// Peak resident set size of this process (Linux `VmHWM`), in bytes.
pub fn peak_memory_bytes() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
