//! The progressive-shrinking schedule's configuration and presets.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{ScheduleError, ShrinkSchedule, StageConfig};
use crate::SearchSpace;

/// How each stage after the first initialises alpha.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlphaInit {
    /// Fresh `1e-3 * N(0, 1)` logits every stage (the paper).
    Fresh,
    /// Surviving ops keep their logits.
    Carried,
}

/// The stages of progressive shrinking (P-DARTS style): each stage trains a supernet
/// over the surviving ops, then every edge drops its least likely ops.
///
/// [`ShrinkScheduleConfig::validate`] checks a schedule against a space before any work
/// and reports how many ops each cell type keeps per stage.
///
/// ```
/// use tnd_nas::schedule::{ScheduleError, ShrinkScheduleConfig};
/// use tnd_nas::spaces::darts::{DartsSpaceConfig};
/// use tnd_nas::spaces::nb201::{Nb201Space};
/// let tnd = DartsSpaceConfig::tnd().init()?;
/// let plan = ShrinkScheduleConfig::paper_tnd().validate(&tnd)?;
/// assert_eq!(plan.to_string(), "normal: 9 -> 6 -> 3 -> 1; reduce: 6 -> 4 -> 2 -> 1");
/// // The TND drop counts do not fit the 8-op DARTS set: 8 -> 5 -> 2, then 2 of 2.
/// let darts = DartsSpaceConfig::darts().init()?;
/// let err = ShrinkScheduleConfig::paper_tnd().validate(&darts).unwrap_err();
/// assert_eq!(err, ScheduleError::DropsDontFit { stage: 2, cell_type: "normal".into(), ops_before: 2, drops: 2 });
/// // NAS-Bench-201 has one cell type, the DARTS schedule names two.
/// let err = ShrinkScheduleConfig::paper_darts().validate(&Nb201Space::new()).unwrap_err();
/// assert!(matches!(err, ScheduleError::CellTypeCount { .. }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShrinkScheduleConfig {
    /// The stages, in order.
    pub stages: Vec<StageConfig>,
    /// How stages after the first initialise alpha (default fresh).
    pub alpha_init: AlphaInit,
}

/// How many ops per edge each cell type has at the start of every stage and at the end:
/// `ops[c][s]` for cell type `c` before stage `s`, `ops[c][stages]` after the last.
/// Where the edges of one type differ, the largest count is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShrinkPlan {
    /// Cell-type names.
    pub cell_types: Vec<String>,
    /// Ops per edge, per cell type, per stage boundary.
    pub ops: Vec<Vec<usize>>,
}

impl ShrinkPlan {
    /// Ops per edge left after the last stage, per cell type.
    pub fn final_ops(&self) -> Vec<usize> {
        self.ops
            .iter()
            .map(|o| o.last().copied().unwrap_or(0))
            .collect()
    }

    /// Whether every edge ends with exactly one op (the architecture is then derived).
    pub fn ends_with_single_ops(&self) -> bool {
        self.final_ops().iter().all(|&n| n == 1)
    }
}

impl fmt::Display for ShrinkPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (name, ops)) in self.cell_types.iter().zip(&self.ops).enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            let seq: Vec<String> = ops.iter().map(usize::to_string).collect();
            write!(f, "{name}: {}", seq.join(" -> "))?;
        }
        Ok(())
    }
}

impl ShrinkScheduleConfig {
    /// A schedule of the given stages, with fresh alpha each stage.
    pub fn new(stages: Vec<StageConfig>) -> Self {
        Self {
            stages,
            alpha_init: AlphaInit::Fresh,
        }
    }

    /// The paper's schedule for the TND op sets: 5, 11, 17 cells; 16 epochs with 8 of
    /// warm-up; 16 channels; normal cells drop 3, 3, 2 (9 -> 6 -> 3 -> 1), reduction cells
    /// 2, 2, 1 (6 -> 4 -> 2 -> 1); fresh alpha.
    pub fn paper_tnd() -> Self {
        Self::new(vec![
            StageConfig::new(5, vec![3, 2]),
            StageConfig::new(11, vec![3, 2]),
            StageConfig::new(17, vec![2, 1]),
        ])
    }

    /// The paper's schedule for the 8-op DARTS set: 8 -> 5 -> 3 -> 1 in both cell types.
    pub fn paper_darts() -> Self {
        Self::new(vec![
            StageConfig::new(5, vec![3, 3]),
            StageConfig::new(11, vec![2, 2]),
            StageConfig::new(17, vec![2, 2]),
        ])
    }

    /// Three stages for NAS-Bench-201's 5 ops, 5 -> 3 -> 2 -> 1 (16 epochs, 8 warm-up).
    pub fn nb201() -> Self {
        Self::new(vec![
            StageConfig::new(5, vec![2]),
            StageConfig::new(5, vec![1]),
            StageConfig::new(5, vec![1]),
        ])
    }

    /// One stage that drops all but one op per edge at its end: the default of table
    /// searches ([`crate::search::TableSearchConfig`]), where nothing deepens between
    /// stages and an early drop only commits before the policy has seen enough. On the
    /// NAS-Bench-201 CIFAR-10 table (20 seeds, best found) TND reached 94.30 / 94.37 at
    /// budgets 100 / 300 with it and 94.24 / 94.31 with the three stages of
    /// [`ShrinkScheduleConfig::nb201`] (`tests/nb201_strategies.rs`); on a synthetic
    /// landscape over the DARTS space the three stages did better at large budgets, and
    /// a supernet needs them to deepen, so supernet searches keep them. 5 cells and 16 epochs (8 of warm-up), as [`ShrinkScheduleConfig::nb201`];
    /// every cell type drops all but one of the candidates of its widest edge.
    ///
    /// ```
    /// use tnd_nas::schedule::ShrinkScheduleConfig;
    /// use tnd_nas::spaces::nb201::Nb201Space;
    /// let one = ShrinkScheduleConfig::one_stage(&Nb201Space::new());
    /// assert_eq!(one.stages.len(), 1);
    /// assert_eq!(one.stages[0].drops, [4]);
    /// ```
    pub fn one_stage(space: &dyn SearchSpace) -> Self {
        let mut widest = vec![0; space.cell_types().len()];
        for (e, edge) in space.edges().iter().enumerate() {
            if let Some(w) = widest.get_mut(edge.cell) {
                *w = (*w).max(space.candidates(e).len());
            }
        }
        let drops = widest.into_iter().map(|w| w.saturating_sub(1)).collect();
        Self::new(vec![StageConfig::new(5, drops)])
    }

    /// Three stages for the MBConv chain space ([`crate::spaces::mbconv::MbConvSpace`]): blocks
    /// that open a stage go 6 -> 4 -> 2 -> 1, the others (with `skip`) 7 -> 4 -> 2 -> 1;
    /// width 0.25 (`channels` 8); 16 epochs, 8 of warm-up. The chain's depth is fixed, so
    /// `cells` is 1.
    pub fn mbconv() -> Self {
        Self::new(vec![
            StageConfig::new(1, vec![2, 3]).with_channels(8),
            StageConfig::new(1, vec![2, 2]).with_channels(8),
            StageConfig::new(1, vec![1, 1]).with_channels(8),
        ])
    }

    /// A tiny schedule for tests: three stages of 1, 2, 3 cells, 2 epochs (1 warm-up),
    /// 4 channels, dropping 2, 1, 1 ops per edge in every cell type (5 -> 3 -> 2 -> 1).
    pub fn quick() -> Self {
        Self::new(
            [(1, 2), (2, 1), (3, 1)]
                .into_iter()
                .map(|(cells, drop)| {
                    StageConfig::new(cells, vec![drop])
                        .with_epochs(2, 1)
                        .with_channels(4)
                })
                .collect(),
        )
    }

    crate::setters! {
        /// Sets how later stages initialise alpha.
        with_alpha_init => alpha_init: AlphaInit;
    }

    /// Sets the epochs and warm-up epochs of every stage.
    pub fn with_epochs(mut self, epochs: usize, warmup_epochs: usize) -> Self {
        for s in &mut self.stages {
            s.epochs = epochs;
            s.warmup_epochs = warmup_epochs;
        }
        self
    }

    /// Sets the initial channels of every stage.
    pub fn with_channels(mut self, channels: usize) -> Self {
        for s in &mut self.stages {
            s.channels = channels;
        }
        self
    }

    /// Sets the skip-connection dropout rate of every stage.
    pub fn with_skip_dropout(mut self, rate: f64) -> Self {
        for s in &mut self.stages {
            s.skip_dropout = rate;
        }
        self
    }

    /// Checks the schedule against a space: stage settings, one drop count per cell type
    /// (or one for all), and drops that leave every edge at least one op.
    ///
    /// # Errors
    /// [`ScheduleError::NoStages`], [`ScheduleError::InvalidStage`] (zero cells, epochs
    /// or channels; warm-up not shorter than the stage; skip dropout outside [0, 1)),
    /// [`ScheduleError::CellTypeCount`], [`ScheduleError::EmptyEdge`],
    /// [`ScheduleError::UnknownCellType`] or
    /// [`ScheduleError::DropsDontFit`] naming the stage and cell type.
    pub fn validate(&self, space: &dyn SearchSpace) -> Result<ShrinkPlan, ScheduleError> {
        if self.stages.is_empty() {
            return Err(ScheduleError::NoStages);
        }
        let types = space.cell_types();
        for (i, s) in self.stages.iter().enumerate() {
            let bad = |reason: String| Err(ScheduleError::InvalidStage { stage: i, reason });
            if s.cells == 0 || s.channels == 0 || s.epochs == 0 {
                return bad(format!(
                    "cells ({}), channels ({}) and epochs ({}) must be positive",
                    s.cells, s.channels, s.epochs
                ));
            }
            if s.warmup_epochs >= s.epochs {
                return bad(format!(
                    "warm-up ({}) must be shorter than the stage ({} epochs) so that alpha is updated",
                    s.warmup_epochs, s.epochs
                ));
            }
            if !(0.0..1.0).contains(&s.skip_dropout) {
                return bad(format!(
                    "skip dropout {} must lie in [0, 1)",
                    s.skip_dropout
                ));
            }
            if s.drops.len() != 1 && s.drops.len() != types.len() {
                return Err(ScheduleError::CellTypeCount {
                    stage: i,
                    expected: types.len(),
                    found: s.drops.len(),
                    names: types.join(", "),
                });
            }
        }
        let mut ops = vec![vec![0usize; self.stages.len() + 1]; types.len()];
        for (e, edge) in space.edges().iter().enumerate() {
            let mut count = space.candidates(e).len();
            if count == 0 {
                return Err(ScheduleError::EmptyEdge { edge: e });
            }
            let Some(row) = ops.get_mut(edge.cell) else {
                return Err(ScheduleError::UnknownCellType {
                    edge: e,
                    cell: edge.cell,
                    cell_types: types.len(),
                });
            };
            row[0] = row[0].max(count);
            for (i, s) in self.stages.iter().enumerate() {
                let drops = s.drops_for(edge.cell);
                if drops >= count {
                    return Err(ScheduleError::DropsDontFit {
                        stage: i,
                        cell_type: types.get(edge.cell).cloned().unwrap_or_default(),
                        ops_before: count,
                        drops,
                    });
                }
                count -= drops;
                row[i + 1] = row[i + 1].max(count);
            }
        }
        Ok(ShrinkPlan {
            cell_types: types,
            ops,
        })
    }

    /// Validates and starts the schedule at stage 0 with every candidate op active.
    ///
    /// # Errors
    /// As [`ShrinkScheduleConfig::validate`].
    pub fn init(&self, space: &dyn SearchSpace) -> Result<ShrinkSchedule, ScheduleError> {
        let plan = self.validate(space)?;
        Ok(ShrinkSchedule::new(self.clone(), plan, space))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spaces::darts::DartsSpaceConfig;
    use crate::spaces::nb201::Nb201Space;

    #[test]
    fn presets_fit_their_spaces() {
        let darts = DartsSpaceConfig::darts().init().unwrap();
        let plan = ShrinkScheduleConfig::paper_darts()
            .validate(&darts)
            .unwrap();
        assert_eq!(plan.ops, vec![vec![8, 5, 3, 1], vec![8, 5, 3, 1]]);
        assert!(plan.ends_with_single_ops());
        let nb = Nb201Space::new();
        assert_eq!(
            ShrinkScheduleConfig::nb201().validate(&nb).unwrap().ops,
            vec![vec![5, 3, 2, 1]]
        );
        assert_eq!(
            ShrinkScheduleConfig::quick()
                .validate(&nb)
                .unwrap()
                .final_ops(),
            vec![1]
        );
        let plan = ShrinkScheduleConfig::quick().validate(&darts).unwrap();
        assert_eq!(plan.final_ops(), vec![4, 4]);
        assert!(!plan.ends_with_single_ops());
    }

    #[test]
    fn drops_that_do_not_fit_name_stage_and_cell() {
        let tnd = DartsSpaceConfig::tnd().init().unwrap();
        let mut cfg = ShrinkScheduleConfig::paper_tnd();
        cfg.stages[2].drops = vec![2, 2];
        assert_eq!(
            cfg.validate(&tnd).unwrap_err(),
            ScheduleError::DropsDontFit {
                stage: 2,
                cell_type: "reduce".into(),
                ops_before: 2,
                drops: 2
            }
        );
        let err = ShrinkScheduleConfig::paper_darts()
            .validate(&tnd)
            .unwrap_err();
        assert!(err.to_string().starts_with("stage 2, reduce cell"), "{err}");
    }

    #[test]
    fn stage_settings_checked() {
        let nb = Nb201Space::new();
        assert_eq!(
            ShrinkScheduleConfig::new(vec![]).validate(&nb),
            Err(ScheduleError::NoStages)
        );
        for bad in [
            ShrinkScheduleConfig::nb201().with_epochs(8, 8),
            ShrinkScheduleConfig::nb201().with_channels(0),
            ShrinkScheduleConfig::nb201().with_skip_dropout(1.0),
        ] {
            assert!(matches!(
                bad.validate(&nb),
                Err(ScheduleError::InvalidStage { stage: 0, .. })
            ));
        }
        assert!(matches!(
            ShrinkScheduleConfig::paper_tnd().validate(&nb),
            Err(ScheduleError::CellTypeCount {
                stage: 0,
                expected: 1,
                found: 2,
                ..
            })
        ));
    }
}
