//! The REINFORCE updater of alpha.

use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::categorical::sample_from;
use super::{AdamState, CategoricalPolicy, PolicyError, UpdateStats, UpdaterConfig, exact_float};
use crate::{Architecture, OpKind};

/// One REINFORCE step at a time on a [`CategoricalPolicy`]: sample `M` architectures,
/// take their rewards, move the baseline, and apply Adam to `-g` with
/// `g = (1/M) sum_m A_m sum_e grad log p_e(a_{m,e})` (plus an optional entropy
/// bonus), after clipping its global norm. The advantage `A_m` is `R_m - b` in the
/// paper and the centred rank of `R_m` by default ([`super::Advantage`]); the learning
/// rate is [`ReinforceUpdater::stage_lr`].
///
/// The baseline starts as the mean reward of the first batch and then follows
/// `b <- b + beta (mean R - b)`; each batch's advantages use the baseline after this
/// move. The whole state (alpha, active ops, Adam moments and step count, baseline, RNG)
/// serialises, and a restored updater continues exactly as the original.
///
/// ```
/// use tnd_nas::policy::UpdaterConfig;
/// use tnd_nas::OpKind;
/// let mut updater = UpdaterConfig::new().with_lr(0.1).init(vec![vec![OpKind::None, OpKind::SkipConnect]; 2], 7)?;
/// for _ in 0..50 {
///     let samples = updater.sample();
///     // Reward: number of skip connections.
///     let rewards: Vec<f64> = samples.iter()
///         .map(|a| a.ops().iter().filter(|o| **o == OpKind::SkipConnect).count() as f64)
///         .collect();
///     updater.update(&samples, &rewards)?;
/// }
/// assert!(updater.probabilities().iter().all(|p| p[1] > 0.8));
/// # Ok::<(), tnd_nas::policy::PolicyError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReinforceUpdater {
    config: UpdaterConfig,
    policy: CategoricalPolicy,
    adam: AdamState,
    #[serde(with = "exact_float::option")]
    baseline: Option<f64>,
    rng: ChaCha8Rng,
    updates: u64,
    /// Updates the current stage is planned to get, where known.
    #[serde(default)]
    planned_updates: Option<u64>,
}

impl ReinforceUpdater {
    pub(crate) fn new(
        config: UpdaterConfig,
        active: Vec<Vec<OpKind>>,
        mut rng: ChaCha8Rng,
    ) -> Result<Self, PolicyError> {
        let policy = CategoricalPolicy::random(active, config.init_scale, &mut rng)?;
        Ok(Self {
            adam: AdamState::zeros_like(policy.alpha()),
            config,
            policy,
            baseline: None,
            rng,
            updates: 0,
            planned_updates: None,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &UpdaterConfig {
        &self.config
    }

    /// The policy.
    pub fn policy(&self) -> &CategoricalPolicy {
        &self.policy
    }

    /// `softmax(alpha_e)` over each edge's active ops.
    pub fn probabilities(&self) -> Vec<Vec<f64>> {
        self.policy.probabilities()
    }

    /// The current baseline (`None` before the first update of a stage).
    pub fn baseline(&self) -> Option<f64> {
        self.baseline
    }

    /// Updates done (over all stages).
    pub fn updates(&self) -> u64 {
        self.updates
    }

    /// The Adam state.
    pub fn adam(&self) -> &AdamState {
        &self.adam
    }

    /// Takes note of how many updates the current stage will get (`None`: unknown),
    /// which sets the learning rate where [`UpdaterConfig::stage_spread`] is set.
    pub fn plan_stage(&mut self, updates: Option<u64>) {
        self.planned_updates = updates;
    }

    /// The Adam learning rate of the current stage: `stage_spread / planned updates`
    /// where both are known, else [`UpdaterConfig::lr`].
    pub fn stage_lr(&self) -> f64 {
        match (self.config.stage_spread, self.planned_updates) {
            (Some(spread), Some(n)) if n > 0 => spread / n as f64,
            _ => self.config.lr,
        }
    }

    /// Samples `M` architectures (M = [`UpdaterConfig::samples`]).
    pub fn sample(&mut self) -> Vec<Architecture> {
        self.sample_n(self.config.samples)
    }

    /// Samples `n` architectures.
    pub fn sample_n(&mut self, n: usize) -> Vec<Architecture> {
        let probs = self.policy.probabilities();
        (0..n)
            .map(|_| {
                self.policy
                    .architecture(&sample_from(&probs, &mut self.rng))
            })
            .collect()
    }

    /// One update from scored samples (`rewards[m]` belongs to `samples[m]`; any number
    /// of samples, normally M).
    ///
    /// # Errors
    /// [`PolicyError::NoSamples`], [`PolicyError::RewardCount`],
    /// [`PolicyError::NonFiniteReward`], or an architecture that does not fit the
    /// policy ([`PolicyError::WrongLength`], [`PolicyError::InactiveOp`]). Nothing
    /// changes when an error is returned.
    pub fn update(
        &mut self,
        samples: &[Architecture],
        rewards: &[f64],
    ) -> Result<UpdateStats, PolicyError> {
        check_batch(samples, rewards)?;
        let indices = samples
            .iter()
            .map(|a| self.policy.indices_of(a))
            .collect::<Result<Vec<_>, _>>()?;
        let m = samples.len() as f64;
        let mean = rewards.iter().sum::<f64>() / m;
        let baseline = match self.baseline {
            None => mean,
            Some(b) => b + self.config.baseline_decay * (mean - b),
        };
        self.baseline = Some(baseline);
        let coefficients: Vec<f64> = self
            .config
            .advantage
            .of(rewards, baseline)
            .into_iter()
            .map(|a| a / m)
            .collect();
        let (d, grad_norm, clipped) = self.descent(&indices, &coefficients);
        let c = &self.config;
        let (lr, betas, eps, wd) = (self.stage_lr(), (c.beta1, c.beta2), c.eps, c.weight_decay);
        self.adam
            .step(self.policy.alpha_mut(), &d, lr, betas, eps, wd);
        if let Some(edge) = self
            .policy
            .alpha()
            .iter()
            .position(|a| a.iter().any(|x| !x.is_finite()))
        {
            return Err(PolicyError::NonFiniteAlpha { edge, lr });
        }
        self.updates += 1;
        Ok(UpdateStats {
            step: self.updates,
            samples: samples.len(),
            reward_mean: mean,
            reward_max: rewards.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            baseline,
            entropy: self.policy.entropy(),
            grad_norm,
            clipped,
        })
    }

    /// Adam's descent direction (the gradient of -objective) for samples `indices` with
    /// advantage `coefficients`, the entropy bonus included; its norm before clipping,
    /// and whether it was clipped.
    fn descent(&self, indices: &[Vec<usize>], coefficients: &[f64]) -> (Vec<Vec<f64>>, f64, bool) {
        let mut g = self.policy.score_gradient(indices, coefficients);
        if self.config.entropy_weight > 0.0 {
            for (ge, he) in g.iter_mut().zip(self.policy.entropy_gradient()) {
                for (x, h) in ge.iter_mut().zip(he) {
                    *x += self.config.entropy_weight * h;
                }
            }
        }
        // Descent direction for Adam: the gradient of -objective.
        let mut d: Vec<Vec<f64>> = g
            .into_iter()
            .map(|e| e.into_iter().map(|x| -x).collect())
            .collect();
        let grad_norm = d.iter().flatten().map(|x| x * x).sum::<f64>().sqrt();
        let mut clipped = false;
        if let Some(clip) = self.config.grad_clip {
            // torch.nn.utils.clip_grad_norm_: scale by clip / (norm + 1e-6) when below 1.
            let coef = clip / (grad_norm + 1e-6);
            if coef < 1.0 {
                clipped = true;
                d.iter_mut().flatten().for_each(|x| *x *= coef);
            }
        }
        (d, grad_norm, clipped)
    }

    /// Starts a new stage over new active ops. With `carry_alpha`, each surviving op
    /// keeps its logit (ops new to an edge start at 0); otherwise alpha is drawn afresh,
    /// `init_scale * N(0, 1)`, from the updater's RNG. Adam's moments and the baseline
    /// start over either way (a new stage scores on a new supernet); the update count
    /// carries on.
    ///
    /// # Errors
    /// As [`CategoricalPolicy::new`].
    pub fn begin_stage(
        &mut self,
        active: Vec<Vec<OpKind>>,
        carry_alpha: bool,
    ) -> Result<(), PolicyError> {
        let policy = if carry_alpha {
            let alpha = active
                .iter()
                .enumerate()
                .map(|(e, ops)| {
                    ops.iter()
                        .map(|op| {
                            self.policy
                                .active()
                                .get(e)
                                .and_then(|old| old.iter().position(|o| o == op))
                                .map_or(0.0, |i| self.policy.alpha()[e][i])
                        })
                        .collect()
                })
                .collect();
            CategoricalPolicy::with_alpha(active, alpha)?
        } else {
            CategoricalPolicy::random(active, self.config.init_scale, &mut self.rng)?
        };
        self.adam = AdamState::zeros_like(policy.alpha());
        self.policy = policy;
        self.baseline = None;
        Ok(())
    }
}

/// Checks a batch before an update: samples, one finite reward each.
fn check_batch(samples: &[Architecture], rewards: &[f64]) -> Result<(), PolicyError> {
    if samples.is_empty() {
        return Err(PolicyError::NoSamples);
    }
    if samples.len() != rewards.len() {
        return Err(PolicyError::RewardCount {
            samples: samples.len(),
            rewards: rewards.len(),
        });
    }
    if let Some((index, &value)) = rewards.iter().enumerate().find(|(_, r)| !r.is_finite()) {
        return Err(PolicyError::NonFiniteReward { index, value });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Advantage;

    fn two_ops() -> Vec<Vec<OpKind>> {
        vec![vec![OpKind::None, OpKind::SkipConnect, OpKind::NorConv3x3]; 3]
    }

    #[test]
    fn baseline_follows_the_spec() {
        let mut u = UpdaterConfig::paper().init(two_ops(), 0).unwrap();
        let s = u.sample_n(2);
        let st = u.update(&s, &[1.0, 3.0]).unwrap();
        assert_eq!(st.baseline, 2.0);
        let st = u.update(&s, &[5.0, 7.0]).unwrap();
        assert!((st.baseline - (2.0 + 0.95 * (6.0 - 2.0))).abs() < 1e-12);
        // First batch: advantages sum to zero, gradient is R - mean.
        let mut u = UpdaterConfig::paper().init(two_ops(), 0).unwrap();
        let st = u.update(&s, &[4.0, 4.0]).unwrap();
        assert_eq!(st.grad_norm, 0.0);
    }

    #[test]
    fn update_matches_manual_computation() {
        let cfg = UpdaterConfig::paper().with_grad_clip(None);
        let mut u = cfg.init(two_ops(), 3).unwrap();
        let _ = u.update(&u.clone().sample_n(2), &[0.0, 0.0]).unwrap(); // set baseline to 0
        let before = u.policy().clone();
        let samples = u.sample_n(4);
        let rewards = [1.0, -2.0, 0.5, 3.0];
        let st = u.update(&samples, &rewards).unwrap();
        let b = 0.95 * (rewards.iter().sum::<f64>() / 4.0);
        assert!((st.baseline - b).abs() < 1e-12);
        // Manual g, then one Adam step on -g from the state after the first update.
        let mut g = vec![vec![0.0; 3]; 3];
        for (a, r) in samples.iter().zip(rewards) {
            let gl = before.grad_log_prob(&before.indices_of(a).unwrap());
            for (ge, le) in g.iter_mut().zip(&gl) {
                for (x, l) in ge.iter_mut().zip(le) {
                    *x += (r - b) / 4.0 * l;
                }
            }
        }
        let norm = g.iter().flatten().map(|x| x * x).sum::<f64>().sqrt();
        assert!((st.grad_norm - norm).abs() < 1e-12);
        // Direction: an op whose logit gradient is clearly positive must gain logit.
        let after = u.policy().alpha();
        for (e, ge) in g.iter().enumerate() {
            for (j, &gj) in ge.iter().enumerate() {
                let delta = after[e][j] - before.alpha()[e][j];
                if gj > 1e-3 {
                    assert!(delta > 0.0, "edge {e} op {j}: g {gj} delta {delta}");
                }
                if gj < -1e-3 {
                    assert!(delta < 0.0, "edge {e} op {j}: g {gj} delta {delta}");
                }
            }
        }
    }

    #[test]
    fn clipping_and_errors() {
        let mut u = UpdaterConfig::new()
            .with_grad_clip(Some(1e-3))
            .init(two_ops(), 1)
            .unwrap();
        let s = u.sample_n(2);
        u.update(&s, &[0.0, 0.0]).unwrap();
        let st = u.update(&s, &[0.0, 100.0]).unwrap();
        assert!(st.clipped && st.grad_norm > 1e-3);
        let snapshot = u.clone();
        assert_eq!(u.update(&[], &[]), Err(PolicyError::NoSamples));
        assert!(matches!(
            u.update(&s, &[1.0]),
            Err(PolicyError::RewardCount { .. })
        ));
        assert!(matches!(
            u.update(&s, &[1.0, f64::NAN]),
            Err(PolicyError::NonFiniteReward { index: 1, .. })
        ));
        assert_eq!(u, snapshot);
    }

    #[test]
    fn begin_stage_carries_or_refreshes() {
        let mut u = UpdaterConfig::new()
            .with_lr(0.5)
            .init(two_ops(), 9)
            .unwrap();
        let s = u.sample();
        u.update(&s, &(0..10).map(f64::from).collect::<Vec<_>>())
            .unwrap();
        let old = u.policy().clone();
        let smaller = vec![vec![OpKind::NorConv3x3, OpKind::None]; 3];
        let mut carried = u.clone();
        carried.begin_stage(smaller.clone(), true).unwrap();
        assert_eq!(carried.policy().alpha()[1][0], old.alpha()[1][2]);
        assert_eq!(carried.policy().alpha()[1][1], old.alpha()[1][0]);
        assert_eq!(carried.baseline(), None);
        u.begin_stage(smaller, false).unwrap();
        assert!(u.policy().alpha().iter().flatten().all(|a| a.abs() < 0.01));
    }

    #[test]
    fn rank_advantages_are_centred_ranks_with_shared_ties() {
        let a = Advantage::Rank.of(&[3.0, 1.0, 3.0, 2.0, 10.0], 0.0);
        assert_eq!(a, [0.125, -0.5, 0.125, -0.25, 0.5]);
        assert_eq!(Advantage::Rank.of(&[7.0], 0.0), [0.0]);
        // Scale- and offset-free: an affine map of the rewards changes nothing.
        let b = Advantage::Rank.of(&[1003.0, 1001.0, 1003.0, 1002.0, 1010.0], 0.0);
        assert_eq!(a, b);
        let s = Advantage::Standardised.of(&[1.0, 3.0], 0.0);
        assert_eq!(s, [-1.0, 1.0]);
        assert_eq!(Advantage::Standardised.of(&[2.0, 2.0], 0.0), [0.0, 0.0]);
        assert_eq!(Advantage::Baseline.of(&[1.0, 3.0], 2.5), [-1.5, 0.5]);
    }

    #[test]
    fn stage_spread_sets_the_learning_rate_from_the_planned_updates() {
        let mut u = UpdaterConfig::new().init(two_ops(), 0).unwrap();
        assert_eq!(u.stage_lr(), u.config().lr);
        u.plan_stage(Some(20));
        assert_eq!(u.stage_lr(), 0.4);
        u.plan_stage(Some(0));
        assert_eq!(u.stage_lr(), u.config().lr);
        let mut p = UpdaterConfig::paper().init(two_ops(), 0).unwrap();
        p.plan_stage(Some(20));
        assert_eq!(p.stage_lr(), 1e-2);
        // A planned stage of U updates moves a consistently rewarded logit by about the
        // spread: after 10 of 10 updates rewarding op 2 everywhere, it is the clear mode.
        let mut u = UpdaterConfig::new().init(two_ops(), 1).unwrap();
        u.plan_stage(Some(10));
        for _ in 0..10 {
            let s = u.sample();
            let r: Vec<f64> = s
                .iter()
                .map(|a| a.ops().iter().filter(|o| **o == OpKind::NorConv3x3).count() as f64)
                .collect();
            u.update(&s, &r).unwrap();
        }
        for p in u.probabilities() {
            assert!(p[2] > 0.9, "{p:?}");
        }
        assert!(
            UpdaterConfig::new()
                .with_stage_spread(Some(0.0))
                .validate()
                .is_err()
        );
    }
}
