//! A supernet's scores joined with the parameter count, the free baseline that ranks
//! Fashion-MNIST cells better than weight sharing does (docs/fidelity.md).

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Advance, Clock, Evaluator, Progress, ScoringError, StageReport, StageStart};
use crate::network::EvalNetworkSpec;
use crate::{Architecture, OpKind};

/// How [`WithParamsPrior`] ranks a score (`SearchConfig::score_prior`).
///
/// ```
/// use tnd_nas::scoring::ParamsPrior;
/// let prior = ParamsPrior::new();
/// assert_eq!((prior.window, prior.reference), (256, 1000));
/// assert!(ParamsPrior { window: 0, ..prior }.validate().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamsPrior {
    /// How many of the stage's latest scored samples a supernet score is ranked among
    /// (256). A window, not the whole stage: the supernet keeps training, so its early
    /// scores are lower than its late ones for the same cell.
    pub window: usize,
    /// How many random architectures of the stage's space a parameter count is ranked
    /// among (1,000; drawn once per stage, seeded).
    pub reference: usize,
}

impl Default for ParamsPrior {
    fn default() -> Self {
        Self::new()
    }
}

impl ParamsPrior {
    /// A window of 256 samples and a reference of 1,000 architectures.
    pub fn new() -> Self {
        Self {
            window: 256,
            reference: 1000,
        }
    }

    /// Checks both sizes.
    ///
    /// # Errors
    /// [`ScoringError::InvalidConfig`] naming `score_prior.window` or
    /// `score_prior.reference` when it is 0.
    pub fn validate(&self) -> Result<(), ScoringError> {
        if self.window == 0 {
            return Err(ScoringError::config(
                "score_prior.window",
                "must be at least 1",
            ));
        }
        if self.reference == 0 {
            return Err(ScoringError::config(
                "score_prior.reference",
                "must be at least 1",
            ));
        }
        Ok(())
    }
}

/// An [`Evaluator`] that passes everything to the evaluator it wraps and replaces each
/// score by its rank joined with the parameter count's: the mean of two percentiles,
/// the score's among the stage's latest [`ParamsPrior::window`] scored samples (the
/// batch included) and the architecture's parameter count's among
/// [`ParamsPrior::reference`] random architectures of the stage's space, mapped back
/// onto the window's scores (the value at that quantile), so the score stays in the
/// wrapped evaluator's unit (percent accuracy).
///
/// This is the fidelity study's `+ params (rank mean)` line as a search scores: on the
/// Fashion-MNIST ground truth the `cpu` supernet alone ranks cells below the parameter
/// count, and the two together above it. Only the batches the search asks for
/// ([`Progress::Ask`]) join the window; architectures scored otherwise (a probe at the
/// stage's end) are ranked against it and leave it as it was. The window is part of the
/// saved position, so a resumed search continues bit for bit.
///
/// ```
/// use std::sync::Arc;
/// use tnd_nas::scoring::{Evaluator, FnEvaluator, ParamsPrior, SupernetSpace, WithParamsPrior};
/// use tnd_nas::scoring::DataShape;
/// use tnd_nas::schedule::{ShrinkScheduleConfig, StageConfig};
/// use tnd_nas::spaces::nb201::Nb201Space;
/// use tnd_nas::{Architecture, SearchSpace};
///
/// let space = Nb201Space::new();
/// let network = space.network(&DataShape { classes: 10, channels: 1, height: 28, width: 28 });
/// let schedule = ShrinkScheduleConfig::new(vec![StageConfig::new(1, vec![0])]);
/// // Every cell scores 80%: the parameter count alone orders them.
/// let inner = FnEvaluator::new(8, &schedule, |_: &Architecture| Ok(Some(80.0)));
/// let mut prior = WithParamsPrior::new(Box::new(inner), ParamsPrior::new(), network, 0)?;
/// let small = space.parse("|skip_connect~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|")?;
/// let large = space.parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|")?;
/// let scores = prior.evaluate(&[small, large], &space.all_candidates())?;
/// assert_eq!(scores, [Some(80.0), Some(80.0)]); // one value in the window: nothing to map onto
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct WithParamsPrior {
    inner: Box<dyn Evaluator>,
    prior: ParamsPrior,
    network: Arc<dyn EvalNetworkSpec>,
    seed: u64,
    /// The stage whose window is held.
    stage: Option<usize>,
    window: VecDeque<f64>,
    /// Sorted parameter counts of the stage's reference architectures.
    reference: Vec<u64>,
    /// The stage the reference was drawn for (a stage's ops do not change while it
    /// runs).
    reference_stage: Option<usize>,
    /// Whether the search asked for the next batch (it joins the window).
    asked: bool,
}

/// `evaluator`, wrapped in a [`WithParamsPrior`] where `prior` is given.
///
/// # Errors
/// As [`WithParamsPrior::new`].
pub fn with_score_prior(
    evaluator: Box<dyn Evaluator>,
    prior: Option<ParamsPrior>,
    network: Arc<dyn EvalNetworkSpec>,
    seed: u64,
) -> Result<Box<dyn Evaluator>, ScoringError> {
    Ok(match prior {
        Some(prior) => Box::new(WithParamsPrior::new(evaluator, prior, network, seed)?),
        None => evaluator,
    })
}

impl std::fmt::Debug for WithParamsPrior {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WithParamsPrior")
            .field("prior", &self.prior)
            .field("stage", &self.stage)
            .field("window", &self.window.len())
            .finish_non_exhaustive()
    }
}

/// The window's part of the saved position, under the key `params_prior` of the wrapped
/// evaluator's own (a JSON object; any other value is kept under `inner`, and `wrapped`
/// says so).
#[derive(Serialize, Deserialize)]
struct PriorPosition {
    stage: Option<usize>,
    window: Vec<f64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    wrapped: bool,
}

const PRIOR_KEY: &str = "params_prior";

impl WithParamsPrior {
    /// Wraps `inner`; `network` counts the parameters of an architecture (the search's
    /// evaluation network), `seed` draws the reference architectures.
    ///
    /// # Errors
    /// A `prior` that fails [`ParamsPrior::validate`].
    pub fn new(
        inner: Box<dyn Evaluator>,
        prior: ParamsPrior,
        network: Arc<dyn EvalNetworkSpec>,
        seed: u64,
    ) -> Result<Self, ScoringError> {
        prior.validate()?;
        Ok(Self {
            inner,
            prior,
            network,
            seed,
            stage: None,
            window: VecDeque::new(),
            reference: Vec::new(),
            reference_stage: None,
            asked: false,
        })
    }

    /// Opens `start`'s window (kept when it is the stage already held, as after a
    /// resume) and draws its reference architectures.
    fn note_stage(&mut self, start: &StageStart<'_>) -> Result<(), ScoringError> {
        if self.stage != Some(start.stage) {
            self.stage = Some(start.stage);
            self.window.clear();
        }
        if self.reference_stage == Some(start.stage) {
            return Ok(());
        }
        let mut rng = ChaCha8Rng::seed_from_u64(
            self.seed ^ 0x7072_696f_7200_0000 ^ (start.stage as u64).wrapping_mul(0x9e37_79b9),
        );
        if let Some(edge) = start.active.iter().position(Vec::is_empty) {
            return Err(ScoringError::config(
                "active",
                format!("edge {edge} has no op left to draw reference architectures from"),
            ));
        }
        let mut counts = Vec::with_capacity(self.prior.reference);
        for _ in 0..self.prior.reference {
            let ops = start
                .active
                .iter()
                .map(|ops| ops[rng.random_range(0..ops.len())])
                .collect();
            counts.push(self.network.param_count(&Architecture::new(ops))?);
        }
        counts.sort_unstable();
        self.reference = counts;
        self.reference_stage = Some(start.stage);
        Ok(())
    }

    /// The joined scores of `batch`, whose wrapped scores are `scores`.
    fn join(
        &self,
        batch: &[Architecture],
        scores: &[Option<f64>],
    ) -> Result<Vec<Option<f64>>, ScoringError> {
        let mut pool: Vec<f64> = if self.window.is_empty() {
            scores.iter().flatten().copied().collect()
        } else {
            self.window.iter().copied().collect()
        };
        pool.sort_by(f64::total_cmp);
        batch
            .iter()
            .zip(scores)
            .map(|(arch, score)| {
                let Some(s) = *score else { return Ok(None) };
                let params = self.network.param_count(arch)?;
                let q = 0.5 * (percentile(&pool, &s) + percentile(&self.reference, &params));
                Ok(Some(quantile(&pool, q)))
            })
            .collect()
    }
}

/// The mid-rank percentile of `x` in the sorted `sorted`, in [0, 1] (0.5 when empty).
fn percentile<T: PartialOrd>(sorted: &[T], x: &T) -> f64 {
    if sorted.is_empty() {
        return 0.5;
    }
    let below = sorted.partition_point(|v| v < x);
    let not_above = sorted.partition_point(|v| v <= x);
    (below as f64 + 0.5 * (not_above - below) as f64) / sorted.len() as f64
}

/// The value at quantile `q` of the sorted, non-empty `sorted` (linear between
/// neighbours).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (pos - lo as f64) * (sorted[hi] - sorted[lo])
}

impl Evaluator for WithParamsPrior {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn prepare_stage(&mut self, start: &StageStart<'_>) -> Result<(), ScoringError> {
        self.note_stage(start)?;
        self.inner.prepare_stage(start)
    }
    fn begin_stage(&mut self, start: &StageStart<'_>) -> Result<StageReport, ScoringError> {
        self.note_stage(start)?;
        self.inner.begin_stage(start)
    }
    fn planned_batches(&self, batch_size: usize) -> Option<u64> {
        self.inner.planned_batches(batch_size)
    }
    fn exact(&self) -> bool {
        // The same cell scores differently as the window moves.
        false
    }
    fn refund(&mut self, n: usize) {
        self.inner.refund(n);
    }
    fn advance(&mut self, cx: &Advance<'_>) -> Result<Progress, ScoringError> {
        let progress = self.inner.advance(cx)?;
        self.asked = matches!(progress, Progress::Ask(_));
        Ok(progress)
    }
    fn interrupt(&mut self) {
        self.asked = false;
        self.inner.interrupt();
    }
    fn evaluate(
        &mut self,
        batch: &[Architecture],
        active: &[Vec<OpKind>],
    ) -> Result<Vec<Option<f64>>, ScoringError> {
        let scores = self.inner.evaluate(batch, active)?;
        if std::mem::take(&mut self.asked) {
            for s in scores.iter().flatten() {
                if self.window.len() == self.prior.window {
                    self.window.pop_front();
                }
                self.window.push_back(*s);
            }
        }
        self.join(batch, &scores)
    }
    fn final_score(
        &mut self,
        arch: &Architecture,
        active: &[Vec<OpKind>],
    ) -> Result<Option<f64>, ScoringError> {
        // The supernet's own measurement of the final cell, as reported.
        self.inner.final_score(arch, active)
    }
    fn end_stage(&mut self) -> Result<(), ScoringError> {
        self.inner.end_stage()
    }
    fn clock(&self) -> Clock {
        self.inner.clock()
    }
    fn checkpointable(&self) -> bool {
        self.inner.checkpointable()
    }
    fn save(&self) -> Result<serde_json::Value, ScoringError> {
        let inner = self.inner.save()?;
        let wrapped = !inner.is_object();
        let prior = PriorPosition {
            stage: self.stage,
            window: self.window.iter().copied().collect(),
            wrapped,
        };
        let prior =
            serde_json::to_value(prior).map_err(|e| ScoringError::checkpoint("state.json", e))?;
        let mut state = if wrapped {
            json!({ "inner": inner })
        } else {
            inner
        };
        if let Some(map) = state.as_object_mut() {
            map.insert(PRIOR_KEY.into(), prior);
        }
        Ok(state)
    }
    fn restore(&mut self, mut state: serde_json::Value) -> Result<(), ScoringError> {
        let prior = state
            .as_object_mut()
            .and_then(|map| map.remove(PRIOR_KEY))
            .ok_or_else(|| {
                ScoringError::checkpoint(
                    "state.json",
                    "it has no `params_prior` window: it was saved without the parameter prior",
                )
            })?;
        let prior: PriorPosition = serde_json::from_value(prior).map_err(|e| {
            ScoringError::checkpoint("state.json", format!("not a parameter-prior window: {e}"))
        })?;
        if prior.window.len() > self.prior.window {
            return Err(ScoringError::checkpoint(
                "state.json",
                format!(
                    "its window holds {} scores, more than `score_prior.window` = {}",
                    prior.window.len(),
                    self.prior.window
                ),
            ));
        }
        let inner = if prior.wrapped {
            state
                .get_mut("inner")
                .map(serde_json::Value::take)
                .unwrap_or_default()
        } else {
            state
        };
        self.inner.restore(inner)?;
        self.stage = prior.stage;
        self.window = prior.window.into();
        self.asked = false;
        Ok(())
    }
    fn write_files(&self, dir: &Path) -> Result<(), ScoringError> {
        self.inner.write_files(dir)
    }
    fn read_files(&mut self, dir: &Path) -> Result<(), ScoringError> {
        self.inner.read_files(dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SearchSpace;
    use crate::schedule::{ShrinkScheduleConfig, StageConfig};
    use crate::scoring::{DataShape, FnEvaluator, SupernetSpace};
    use crate::spaces::nb201::Nb201Space;

    fn shape() -> DataShape {
        DataShape {
            classes: 10,
            channels: 1,
            height: 28,
            width: 28,
        }
    }

    /// A stage of one 8-sample budget over the whole NB201 space, every cell scored by
    /// `score`.
    fn prior_over(
        score: fn(&Architecture) -> f64,
        prior: ParamsPrior,
    ) -> (WithParamsPrior, Nb201Space) {
        let space = Nb201Space::new();
        let schedule = ShrinkScheduleConfig::new(vec![StageConfig::new(1, vec![0])]);
        let inner = FnEvaluator::new(1000, &schedule, move |a: &Architecture| Ok(Some(score(a))));
        let network = space.network(&shape());
        let e = WithParamsPrior::new(Box::new(inner), prior, network, 3).unwrap();
        (e, space)
    }

    fn start<'a>(
        config: &'a StageConfig,
        active: &'a [Vec<OpKind>],
        stage: usize,
    ) -> StageStart<'a> {
        StageStart {
            stage,
            stages: 2,
            config,
            active,
        }
    }

    fn convs(a: &Architecture) -> f64 {
        a.ops().iter().filter(|&&o| o == OpKind::NorConv3x3).count() as f64
    }

    fn ask(e: &mut WithParamsPrior, active: &[Vec<OpKind>]) {
        let cx = Advance {
            stage: 0,
            probabilities: None,
            active,
            batch_size: 4,
        };
        assert!(matches!(e.advance(&cx).unwrap(), Progress::Ask(_)));
    }

    /// Opens stage 0 over the whole space and scores the all-3x3 cell as an asked batch.
    fn score_all_convs(e: &mut WithParamsPrior, space: &Nb201Space) {
        let active = space.all_candidates();
        let config = StageConfig::new(1, vec![0]);
        e.begin_stage(&start(&config, &active, 0)).unwrap();
        ask(e, &active);
        e.evaluate(&[Architecture::new(vec![OpKind::NorConv3x3; 6])], &active)
            .unwrap();
    }

    #[test]
    fn percentiles_and_quantiles() {
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], &2.0), 0.375);
        assert_eq!(percentile(&[1.0, 2.0, 2.0, 4.0], &2.0), 0.5);
        assert_eq!(percentile(&[1u64, 2], &0), 0.0);
        assert_eq!(percentile(&[1u64, 2], &9), 1.0);
        assert_eq!(percentile::<u64>(&[], &9), 0.5);
        assert_eq!(quantile(&[10.0, 20.0, 40.0], 0.0), 10.0);
        assert_eq!(quantile(&[10.0, 20.0, 40.0], 0.75), 30.0);
        assert_eq!(quantile(&[10.0, 20.0, 40.0], 1.0), 40.0);
        assert_eq!(quantile(&[7.0], 0.3), 7.0);
    }

    #[test]
    fn equal_scores_are_ordered_by_parameters_and_unequal_ones_by_both() {
        let (mut e, space) = prior_over(|_| 50.0, ParamsPrior::new());
        let active = space.all_candidates();
        let config = StageConfig::new(1, vec![0]);
        e.begin_stage(&start(&config, &active, 0)).unwrap();
        let cell = |ops: [OpKind; 6]| Architecture::new(ops.to_vec());
        use OpKind::{NorConv1x1 as C1, NorConv3x3 as C3, SkipConnect as S};
        // Fill the window with a spread of scores first.
        let (mut spread, _) = prior_over(convs, ParamsPrior::new());
        spread.begin_stage(&start(&config, &active, 0)).unwrap();
        ask(&mut spread, &active);
        let cells = [
            cell([S; 6]),
            cell([C1; 6]),
            cell([C3; 6]),
            cell([C3, C3, C3, S, S, S]),
        ];
        let got = spread.evaluate(&cells, &active).unwrap();
        let got: Vec<f64> = got.into_iter().map(Option::unwrap).collect();
        // More 3x3 convolutions: a higher score and more parameters, so a higher rank.
        assert!(got[0] < got[3] && got[3] < got[2], "{got:?}");
        assert!(got.iter().all(|&s| (0.0..=6.0).contains(&s)), "{got:?}");
        // Equal wrapped scores: the window holds one value, so every cell maps onto it.
        ask(&mut e, &active);
        let flat = e.evaluate(&cells, &active).unwrap();
        assert!(flat.iter().all(|s| *s == Some(50.0)), "{flat:?}");
    }

    #[test]
    fn only_asked_batches_join_the_window_and_it_slides() {
        let prior = ParamsPrior {
            window: 3,
            reference: 50,
        };
        let (mut e, space) = prior_over(convs, prior);
        let active = space.all_candidates();
        let config = StageConfig::new(1, vec![0]);
        e.begin_stage(&start(&config, &active, 0)).unwrap();
        let cell = |n: usize| {
            let mut ops = vec![OpKind::SkipConnect; 6];
            ops[..n].fill(OpKind::NorConv3x3);
            Architecture::new(ops)
        };
        // Not asked: ranked against the batch itself, the window stays empty.
        e.evaluate(&[cell(1), cell(2)], &active).unwrap();
        assert!(e.window.is_empty());
        ask(&mut e, &active);
        e.evaluate(&[cell(1), cell(2)], &active).unwrap();
        ask(&mut e, &active);
        e.evaluate(&[cell(3), cell(4)], &active).unwrap();
        assert_eq!(e.window, [2.0, 3.0, 4.0]);
        // A probe after the last batch leaves the window as it is.
        e.evaluate(&[cell(6)], &active).unwrap();
        assert_eq!(e.window, [2.0, 3.0, 4.0]);
        // Resuming keeps the window; a new stage opens an empty one.
        let saved = e.save().unwrap();
        let (mut back, _) = prior_over(convs, prior);
        back.restore(saved).unwrap();
        back.begin_stage(&start(&config, &active, 0)).unwrap();
        assert_eq!(back.window, [2.0, 3.0, 4.0]);
        assert_eq!(
            back.evaluate(&[cell(5)], &active).unwrap(),
            e.evaluate(&[cell(5)], &active).unwrap()
        );
        back.begin_stage(&start(&config, &active, 1)).unwrap();
        assert!(back.window.is_empty());
    }

    #[test]
    fn the_wrapped_state_keeps_its_fields_beside_the_window() {
        let (mut e, space) = prior_over(convs, ParamsPrior::new());
        score_all_convs(&mut e, &space);
        let saved = e.save().unwrap();
        let mut inner = e.inner.save().unwrap();
        inner
            .as_object_mut()
            .unwrap()
            .insert(PRIOR_KEY.into(), json!({"stage": 0, "window": [6.0]}));
        assert_eq!(saved, inner);
    }

    /// An evaluator whose state is a number.
    #[derive(Debug, Default)]
    struct Counter(u64);

    impl Evaluator for Counter {
        fn name(&self) -> &str {
            "counter"
        }
        fn begin_stage(&mut self, _: &StageStart<'_>) -> Result<StageReport, ScoringError> {
            Ok(StageReport::default())
        }
        fn advance(&mut self, _: &Advance<'_>) -> Result<Progress, ScoringError> {
            Ok(Progress::Ask(1))
        }
        fn evaluate(
            &mut self,
            batch: &[Architecture],
            _: &[Vec<OpKind>],
        ) -> Result<Vec<Option<f64>>, ScoringError> {
            self.0 += 1;
            Ok(vec![Some(self.0 as f64); batch.len()])
        }
        fn clock(&self) -> Clock {
            Clock::default()
        }
        fn save(&self) -> Result<serde_json::Value, ScoringError> {
            Ok(json!(self.0))
        }
        fn restore(&mut self, state: serde_json::Value) -> Result<(), ScoringError> {
            self.0 = state.as_u64().unwrap_or(0);
            Ok(())
        }
    }

    #[test]
    fn a_state_that_is_not_an_object_is_kept_under_inner() {
        let space = Nb201Space::new();
        let network = space.network(&shape());
        let mut e = WithParamsPrior::new(
            Box::new(Counter(41)),
            ParamsPrior::new(),
            network.clone(),
            0,
        )
        .unwrap();
        score_all_convs(&mut e, &space);
        let saved = e.save().unwrap();
        assert_eq!(saved["inner"], json!(42));
        let mut back =
            WithParamsPrior::new(Box::new(Counter(0)), ParamsPrior::new(), network, 0).unwrap();
        back.restore(saved.clone()).unwrap();
        assert_eq!(back.save().unwrap(), saved);
        assert_eq!(back.window, [42.0]);
    }

    #[test]
    fn bad_settings_and_states_are_refused() {
        let (_, space) = prior_over(convs, ParamsPrior::new());
        let schedule = ShrinkScheduleConfig::new(vec![StageConfig::new(1, vec![0])]);
        let inner = FnEvaluator::new(8, &schedule, |_: &Architecture| Ok(Some(1.0)));
        let zero = ParamsPrior {
            reference: 0,
            ..ParamsPrior::new()
        };
        let err = WithParamsPrior::new(Box::new(inner), zero, space.network(&shape()), 0)
            .unwrap_err()
            .to_string();
        assert!(err.contains("score_prior.reference"), "{err}");
        let (mut e, _) = prior_over(
            convs,
            ParamsPrior {
                window: 2,
                reference: 5,
            },
        );
        let err = e.restore(json!({"pos": 1})).unwrap_err().to_string();
        assert!(err.contains("params_prior"), "{err}");
        let long = json!({"params_prior": {"stage": 0, "window": [1.0, 2.0, 3.0]}});
        let err = e.restore(long).unwrap_err().to_string();
        assert!(err.contains("score_prior.window"), "{err}");
    }
}
