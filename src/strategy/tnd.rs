//! TND-NAS: REINFORCE on alpha with progressive shrinking.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::strategy_trait::check_tell;
use super::{Strategy, StrategyError, restore_state, save_state};
use crate::objective::ParetoPreferences;
use crate::policy::{ReinforceUpdater, UpdateStats, UpdaterConfig};
use crate::schedule::ShrinkSchedule;
use crate::{Architecture, OpKind};

/// The TND-NAS strategy: samples from `softmax(alpha)`, moves alpha by REINFORCE
/// ([`ReinforceUpdater`]), and at the end of every stage drops the least likely ops
/// ([`ShrinkSchedule`]). Its final architecture is what the shrinking leaves (on an edge
/// that keeps several ops, the one most likely before the last drop).
///
/// Under a reward with several preferences ([`crate::objective::ParetoPreferences`]) it
/// keeps one policy per preference: batches go to them in turn, each policy's stage plan
/// is its share of the stage's batches, and the shared parts (a supernet's op weights,
/// the shrinking) follow the policies' mean probabilities, and the final architecture is
/// the balanced preference's most likely one among the last stage's ops. Preference 0's
/// policy is seeded exactly as a single policy is, so one preference searches as before.
///
/// ```
/// use tnd_nas::policy::UpdaterConfig;
/// use tnd_nas::schedule::ShrinkScheduleConfig;
/// use tnd_nas::spaces::nb201::Nb201Space;
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
    /// One policy per preference (at least one).
    updaters: Vec<ReinforceUpdater>,
    /// The preference whose turn it is.
    turn: usize,
    seed: u64,
    /// The last closed stage, before its drop.
    last_stage: Option<ClosedStage>,
}

/// Active ops and their probabilities at the end of a stage, before its drop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ClosedStage {
    active: Vec<Vec<OpKind>>,
    probabilities: Vec<Vec<f64>>,
    /// Under several preferences, the balanced preference's probabilities.
    #[serde(default)]
    balanced: Option<Vec<Vec<f64>>>,
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
            updaters: vec![updater],
            turn: 0,
            seed,
            last_stage: None,
        })
    }

    /// The REINFORCE updater (alpha, Adam state, baseline) of the first preference.
    pub fn updater(&self) -> &ReinforceUpdater {
        &self.updaters[0]
    }

    /// The REINFORCE updaters, one per preference.
    pub fn updaters(&self) -> &[ReinforceUpdater] {
        &self.updaters
    }

    /// The mean of the policies' probabilities (the one policy's, under one preference).
    fn mean_probabilities(&self) -> Vec<Vec<f64>> {
        let mut mean = self.updaters[0].probabilities();
        if self.updaters.len() > 1 {
            for u in &self.updaters[1..] {
                for (m, p) in mean.iter_mut().zip(u.probabilities()) {
                    for (m, p) in m.iter_mut().zip(p) {
                        *m += p;
                    }
                }
            }
            let k = self.updaters.len() as f64;
            mean.iter_mut().flatten().for_each(|m| *m /= k);
        }
        mean
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
        self.updaters[0].config().samples
    }

    fn ask(&mut self, n: usize) -> Vec<Architecture> {
        self.updaters[self.turn].sample_n(n)
    }

    fn tell(
        &mut self,
        batch: &[Architecture],
        rewards: &[f64],
    ) -> Result<Option<UpdateStats>, StrategyError> {
        check_tell(batch, rewards)?;
        let stats = self.updaters[self.turn].update(batch, rewards)?;
        self.turn = (self.turn + 1) % self.updaters.len();
        Ok(Some(stats))
    }

    fn probabilities(&self) -> Option<Vec<Vec<f64>>> {
        Some(self.mean_probabilities())
    }

    fn plan_stage(&mut self, batches: Option<u64>) {
        // Each policy gets its turn's share of the stage's batches.
        let k = self.updaters.len() as u64;
        for u in &mut self.updaters {
            u.plan_stage(batches.map(|b| b.div_ceil(k)));
        }
    }

    fn set_preferences(&mut self, count: usize) -> Result<(), StrategyError> {
        let count = count.max(1);
        if count == self.updaters.len() {
            return Ok(());
        }
        if self.updaters.iter().any(|u| u.updates() > 0) || self.last_stage.is_some() {
            return Err(StrategyError::config(
                "preferences",
                format!(
                    "the TND state has {} policies (one per preference) but the reward \
                     has {count} preferences",
                    self.updaters.len()
                ),
            ));
        }
        let config = self.updaters[0].config().clone();
        let active = self.schedule.active().to_vec();
        self.updaters.truncate(1);
        for k in 1..count {
            let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
            rng.set_stream(k as u64);
            self.updaters
                .push(config.init_with_rng(active.clone(), rng)?);
        }
        self.turn = 0;
        Ok(())
    }

    fn preference(&self) -> Option<usize> {
        Some(self.turn)
    }

    fn end_stage(&mut self) -> Result<Vec<Vec<OpKind>>, StrategyError> {
        let probabilities = self.mean_probabilities();
        let active = self.schedule.active().to_vec();
        let dropped = self.schedule.shrink(&probabilities)?;
        if !self.schedule.is_finished() {
            for u in &mut self.updaters {
                u.begin_stage(
                    self.schedule.active().to_vec(),
                    self.schedule.carries_alpha(),
                )?;
            }
            self.turn = 0;
        }
        let balanced = (self.updaters.len() > 1).then(|| {
            self.updaters[ParetoPreferences::balanced(self.updaters.len())].probabilities()
        });
        self.last_stage = Some(ClosedStage {
            active,
            probabilities,
            balanced,
        });
        Ok(dropped)
    }

    fn final_architecture(&self) -> Option<Architecture> {
        if let Some(ClosedStage {
            active,
            balanced: Some(balanced),
            ..
        }) = &self.last_stage
        {
            // Several preferences: the balanced one's choice among the last stage's ops.
            return Some(most_likely_survivors(active, active, balanced));
        }
        if let Some(arch) = self.schedule.final_architecture() {
            return Some(arch);
        }
        Some(match &self.last_stage {
            Some(last) => {
                most_likely_survivors(self.schedule.active(), &last.active, &last.probabilities)
            }
            None => self.updaters[0].policy().most_likely(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::ShrinkScheduleConfig;
    use crate::spaces::nb201::Nb201Space;

    fn tnd() -> Tnd {
        let schedule = ShrinkScheduleConfig::nb201()
            .init(&Nb201Space::new())
            .unwrap();
        Tnd::new(UpdaterConfig::new().with_samples(4), schedule, 7).unwrap()
    }

    #[test]
    fn preferences_take_turns_and_the_first_is_the_single_policy() {
        let mut single = tnd();
        let mut three = tnd();
        three.set_preferences(3).unwrap();
        assert_eq!(three.updaters().len(), 3);
        // Preference 0 draws exactly what one policy draws.
        assert_eq!(three.ask(4), single.ask(4));
        for turn in 0..6 {
            assert_eq!(three.preference(), Some(turn % 3));
            let batch = three.ask(4);
            three.tell(&batch, &[1.0, 0.0, 0.5, 0.2]).unwrap();
        }
        // Each policy was updated twice.
        assert!(three.updaters().iter().all(|u| u.updates() == 2));
        // The shared probabilities are the policies' mean.
        let mean = three.probabilities().unwrap();
        let p: Vec<Vec<Vec<f64>>> = three.updaters().iter().map(|u| u.probabilities()).collect();
        let want = (p[0][2][1] + p[1][2][1] + p[2][2][1]) / 3.0;
        assert!((mean[2][1] - want).abs() < 1e-12);
        // Once updated, another count is refused; the same count is fine.
        three.set_preferences(3).unwrap();
        let err = three.set_preferences(1).unwrap_err();
        assert!(err.to_string().contains("preferences"), "{err}");
    }
}
