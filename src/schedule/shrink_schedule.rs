//! The position in a progressive-shrinking schedule.

use serde::{Deserialize, Serialize};

use super::{AlphaInit, ScheduleError, ShrinkPlan, ShrinkScheduleConfig, StageConfig};
use crate::{Architecture, OpKind, SearchSpace};

/// A running schedule: the current stage and the ops still active on every edge.
/// Serialises (config, plan and position), so a search can resume where it stopped.
///
/// ```
/// use tnd_nas::schedule::ShrinkScheduleConfig;
/// use tnd_nas::spaces::nb201::Nb201Space;
/// let space = Nb201Space::new();
/// let mut schedule = ShrinkScheduleConfig::nb201().init(&space)?;
/// assert_eq!(schedule.active()[0].len(), 5);
/// // Probabilities per edge over the active ops (e.g. softmax(alpha)); the 2 least
/// // likely ops of every edge go.
/// let probs = vec![vec![0.1, 0.3, 0.2, 0.25, 0.15]; 6];
/// let dropped = schedule.shrink(&probs)?;
/// assert_eq!(dropped[0].len(), 2);
/// assert_eq!(schedule.stage(), 1);
/// assert_eq!(schedule.active()[0].len(), 3);
/// # Ok::<(), tnd_nas::schedule::ScheduleError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShrinkSchedule {
    config: ShrinkScheduleConfig,
    plan: ShrinkPlan,
    space_id: String,
    edge_cells: Vec<usize>,
    stage: usize,
    active: Vec<Vec<OpKind>>,
}

impl ShrinkSchedule {
    pub(crate) fn new(
        config: ShrinkScheduleConfig,
        plan: ShrinkPlan,
        space: &dyn SearchSpace,
    ) -> Self {
        Self {
            config,
            plan,
            space_id: space.id(),
            edge_cells: space.edges().iter().map(|e| e.cell).collect(),
            stage: 0,
            active: space.all_candidates(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ShrinkScheduleConfig {
        &self.config
    }

    /// Ops per edge at every stage boundary, per cell type.
    pub fn plan(&self) -> &ShrinkPlan {
        &self.plan
    }

    /// The id of the space the schedule was built for.
    pub fn space_id(&self) -> &str {
        &self.space_id
    }

    /// Index of the current stage (the number of stages once finished).
    pub fn stage(&self) -> usize {
        self.stage
    }

    /// Number of stages.
    pub fn num_stages(&self) -> usize {
        self.config.stages.len()
    }

    /// The current stage's settings (`None` once finished).
    pub fn current(&self) -> Option<&StageConfig> {
        self.config.stages.get(self.stage)
    }

    /// Whether every stage is done.
    pub fn is_finished(&self) -> bool {
        self.stage >= self.config.stages.len()
    }

    /// The active ops of every edge.
    pub fn active(&self) -> &[Vec<OpKind>] {
        &self.active
    }

    /// Whether the current stage should carry alpha over from the previous one.
    pub fn carries_alpha(&self) -> bool {
        self.stage > 0 && self.config.alpha_init == AlphaInit::Carried
    }

    /// The architecture once every edge has exactly one active op.
    pub fn final_architecture(&self) -> Option<Architecture> {
        self.active
            .iter()
            .all(|ops| ops.len() == 1)
            .then(|| Architecture::new(self.active.iter().map(|ops| ops[0]).collect()))
    }

    /// Ends the current stage: every edge drops its least likely ops (the stage's count
    /// for the edge's cell type; among equal probabilities the later op goes first), and
    /// the schedule moves to the next stage. Returns the dropped ops of every edge.
    ///
    /// `probabilities[e]` holds one probability (or any score) per active op of edge `e`.
    ///
    /// # Errors
    /// [`ScheduleError::Finished`] after the last stage; [`ScheduleError::ProbabilityShape`]
    /// when the probabilities do not match the active ops. Nothing changes on error.
    pub fn shrink(
        &mut self,
        probabilities: &[Vec<f64>],
    ) -> Result<Vec<Vec<OpKind>>, ScheduleError> {
        let Some(stage) = self.config.stages.get(self.stage) else {
            return Err(ScheduleError::Finished {
                stages: self.config.stages.len(),
            });
        };
        if probabilities.len() != self.active.len() {
            return Err(ScheduleError::ProbabilityShape {
                edge: probabilities.len(),
                expected: self.active.len(),
                found: probabilities.len(),
            });
        }
        for (e, (p, ops)) in probabilities.iter().zip(&self.active).enumerate() {
            if p.len() != ops.len() {
                return Err(ScheduleError::ProbabilityShape {
                    edge: e,
                    expected: ops.len(),
                    found: p.len(),
                });
            }
        }
        let mut dropped = Vec::with_capacity(self.active.len());
        for ((ops, p), &cell) in self
            .active
            .iter_mut()
            .zip(probabilities)
            .zip(&self.edge_cells)
        {
            let drops = stage.drops_for(cell).min(ops.len().saturating_sub(1));
            let mut order: Vec<usize> = (0..ops.len()).collect();
            order.sort_by(|&a, &b| p[a].total_cmp(&p[b]).then(b.cmp(&a)));
            let mut gone: Vec<usize> = order[..drops].to_vec();
            gone.sort_unstable();
            dropped.push(gone.iter().map(|&i| ops[i]).collect());
            let mut i = 0;
            ops.retain(|_| {
                let keep = !gone.contains(&i);
                i += 1;
                keep
            });
        }
        self.stage += 1;
        Ok(dropped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spaces::darts::DartsSpaceConfig;
    use crate::spaces::nb201::Nb201Space;

    #[test]
    fn drops_lowest_with_deterministic_ties() {
        let space = Nb201Space::new();
        let mut s = ShrinkScheduleConfig::nb201().init(&space).unwrap();
        // Edge 0: distinct; others: all tied -> the last two ops go.
        let mut probs = vec![vec![0.2; 5]; 6];
        probs[0] = vec![0.3, 0.05, 0.4, 0.15, 0.1];
        let dropped = s.shrink(&probs).unwrap();
        assert_eq!(dropped[0], vec![OpKind::SkipConnect, OpKind::AvgPool3x3]);
        assert_eq!(
            s.active()[0],
            vec![OpKind::None, OpKind::NorConv1x1, OpKind::NorConv3x3]
        );
        assert_eq!(dropped[1], vec![OpKind::NorConv3x3, OpKind::AvgPool3x3]);
        assert!(s.final_architecture().is_none());
        s.shrink(&vec![vec![0.5, 0.3, 0.2]; 6]).unwrap();
        s.shrink(&vec![vec![0.4, 0.6]; 6]).unwrap();
        assert!(s.is_finished());
        let arch = s.final_architecture().unwrap();
        assert_eq!(arch.ops()[0], OpKind::NorConv1x1);
        assert_eq!(
            s.shrink(&vec![vec![1.0]; 6]),
            Err(ScheduleError::Finished { stages: 3 })
        );
    }

    #[test]
    fn per_cell_type_counts_and_shape_errors() {
        let space = DartsSpaceConfig::tnd().init().unwrap();
        let mut s = ShrinkScheduleConfig::paper_tnd().init(&space).unwrap();
        let probs: Vec<Vec<f64>> = s.active().iter().map(|o| vec![0.1; o.len()]).collect();
        let before = s.clone();
        assert!(matches!(
            s.shrink(&probs[1..]),
            Err(ScheduleError::ProbabilityShape { .. })
        ));
        assert_eq!(s, before);
        s.shrink(&probs).unwrap();
        assert!(s.active()[..14].iter().all(|o| o.len() == 6));
        assert!(s.active()[14..].iter().all(|o| o.len() == 4));
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<ShrinkSchedule>(&json).unwrap(), s);
    }
}
