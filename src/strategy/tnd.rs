//! TND-NAS: REINFORCE on alpha with progressive shrinking.

use serde::{Deserialize, Serialize};

use super::strategy_trait::check_tell;
use super::{Strategy, StrategyError, restore_state, save_state};
use crate::policy::{ReinforceUpdater, UpdateStats, UpdaterConfig};
use crate::schedule::ShrinkSchedule;
use crate::{Architecture, OpKind};

/// The TND-NAS strategy: samples from `softmax(alpha)`, moves alpha by REINFORCE
/// ([`ReinforceUpdater`]), and at the end of every stage drops the least likely ops
/// ([`ShrinkSchedule`]). Its final architecture is what the shrinking leaves (on an edge
/// that keeps several ops, the one most likely before the last drop).
///
/// ```
/// use tnd_nas::policy::UpdaterConfig;
/// use tnd_nas::schedule::ShrinkScheduleConfig;
/// use tnd_nas::space::Nb201Space;
/// use tnd_nas::strategy::{Strategy, Tnd};
///
/// let space = Nb201Space::new();
/// let schedule = ShrinkScheduleConfig::nb201().init(&space)?;
/// let mut tnd = Tnd::new(UpdaterConfig::new().with_samples(4), schedule, 0)?;
/// let batch = tnd.ask(4);
/// let stats = tnd.tell(&batch, &[1.0, 0.0, 0.5, 0.2])?.expect("TND has a policy");
/// assert_eq!(stats.step, 1);
/// let dropped = tnd.end_stage()?; // the first shrink: 5 -> 3 ops per edge
/// assert!(dropped.iter().all(|d| d.len() == 2));
/// assert!(tnd.active().iter().all(|ops| ops.len() == 3));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tnd {
    schedule: ShrinkSchedule,
    updater: ReinforceUpdater,
    /// The last closed stage, before its drop.
    last_stage: Option<ClosedStage>,
}

/// Active ops and their probabilities at the end of a stage, before its drop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ClosedStage {
    active: Vec<Vec<OpKind>>,
    probabilities: Vec<Vec<f64>>,
}

impl Tnd {
    /// TND over the schedule's space, with the updater seeded by `seed`.
    ///
    /// # Errors
    /// The updater's validation errors.
    pub fn new(
        updater: UpdaterConfig,
        schedule: ShrinkSchedule,
        seed: u64,
    ) -> Result<Self, StrategyError> {
        updater.validate()?;
        let updater = updater.init(schedule.active().to_vec(), seed)?;
        Ok(Self {
            schedule,
            updater,
            last_stage: None,
        })
    }

    /// The REINFORCE updater (alpha, Adam state, baseline).
    pub fn updater(&self) -> &ReinforceUpdater {
        &self.updater
    }

    /// The shrinking schedule.
    pub fn schedule(&self) -> &ShrinkSchedule {
        &self.schedule
    }
}

impl Strategy for Tnd {
    fn name(&self) -> &str {
        "tnd"
    }

    fn active(&self) -> Vec<Vec<OpKind>> {
        self.schedule.active().to_vec()
    }

    fn batch_size(&self) -> usize {
        self.updater.config().samples
    }

    fn ask(&mut self, n: usize) -> Vec<Architecture> {
        self.updater.sample_n(n)
    }

    fn tell(
        &mut self,
        batch: &[Architecture],
        rewards: &[f64],
    ) -> Result<Option<UpdateStats>, StrategyError> {
        check_tell(batch, rewards)?;
        Ok(Some(self.updater.update(batch, rewards)?))
    }

    fn probabilities(&self) -> Option<Vec<Vec<f64>>> {
        Some(self.updater.probabilities())
    }

    fn plan_stage(&mut self, batches: Option<u64>) {
        self.updater.plan_stage(batches);
    }

    fn end_stage(&mut self) -> Result<Vec<Vec<OpKind>>, StrategyError> {
        let probabilities = self.updater.probabilities();
        let active = self.schedule.active().to_vec();
        let dropped = self.schedule.shrink(&probabilities)?;
        if !self.schedule.is_finished() {
            self.updater.begin_stage(
                self.schedule.active().to_vec(),
                self.schedule.carries_alpha(),
            )?;
        }
        self.last_stage = Some(ClosedStage {
            active,
            probabilities,
        });
        Ok(dropped)
    }

    fn final_architecture(&self) -> Option<Architecture> {
        if let Some(arch) = self.schedule.final_architecture() {
            return Some(arch);
        }
        Some(match &self.last_stage {
            Some(last) => {
                most_likely_survivors(self.schedule.active(), &last.active, &last.probabilities)
            }
            None => self.updater.policy().most_likely(),
        })
    }

    fn save(&self) -> Result<serde_json::Value, StrategyError> {
        save_state("tnd", self)
    }

    fn restore(&mut self, state: serde_json::Value) -> Result<(), StrategyError> {
        *self = restore_state("tnd", state)?;
        Ok(())
    }
}

/// On every edge, the surviving op that was most likely before the last drop.
fn most_likely_survivors(
    survivors: &[Vec<OpKind>],
    active: &[Vec<OpKind>],
    probs: &[Vec<f64>],
) -> Architecture {
    Architecture::new(
        survivors
            .iter()
            .zip(active.iter().zip(probs))
            .map(|(ops, (before, p))| {
                let prob = |op: &OpKind| {
                    before
                        .iter()
                        .position(|o| o == op)
                        .map_or(f64::NEG_INFINITY, |i| p[i])
                };
                ops.iter()
                    .copied()
                    .fold(None::<OpKind>, |best, op| match best {
                        Some(b) if prob(&b) >= prob(&op) => Some(b),
                        _ => Some(op),
                    })
                    .unwrap_or(OpKind::None)
            })
            .collect(),
    )
}
