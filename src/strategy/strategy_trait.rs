//! The ask/tell interface every search strategy implements.

use crate::policy::UpdateStats;
use crate::{Architecture, OpKind};

use super::StrategyError;

/// What to try next, in the ask/tell shape of Optuna's samplers: [`Strategy::ask`]
/// proposes a batch of architectures, [`Strategy::tell`] receives their rewards, and
/// [`Strategy::end_stage`] closes a stage (where a strategy may shrink its space). The
/// executor owns the loop; a strategy only decides.
///
/// Its whole state serialises ([`Strategy::save`] / [`Strategy::restore`]) so that a
/// checkpointed search continues bit for bit.
///
/// ```
/// use tnd_nas::strategy::{Strategy, StrategyError};
/// use tnd_nas::{Architecture, OpKind};
///
/// /// Always proposes the first candidate of every edge.
/// #[derive(Debug)]
/// struct FirstOps(Vec<Vec<OpKind>>);
///
/// impl Strategy for FirstOps {
///     fn name(&self) -> &str { "first-ops" }
///     fn active(&self) -> Vec<Vec<OpKind>> { self.0.clone() }
///     fn batch_size(&self) -> usize { 1 }
///     fn ask(&mut self, n: usize) -> Vec<Architecture> {
///         vec![Architecture::new(self.0.iter().map(|ops| ops[0]).collect()); n]
///     }
///     fn tell(&mut self, _: &[Architecture], _: &[f64])
///         -> Result<Option<tnd_nas::policy::UpdateStats>, StrategyError> { Ok(None) }
///     fn save(&self) -> Result<serde_json::Value, StrategyError> { Ok(serde_json::Value::Null) }
///     fn restore(&mut self, _: serde_json::Value) -> Result<(), StrategyError> { Ok(()) }
/// }
///
/// let mut s = FirstOps(vec![vec![OpKind::SkipConnect, OpKind::None]; 2]);
/// let batch = s.ask(3);
/// assert_eq!(batch.len(), 3);
/// assert_eq!(batch[0].ops(), [OpKind::SkipConnect; 2]);
/// assert!(s.tell(&batch, &[1.0, 2.0, 3.0])?.is_none());
/// assert!(s.final_architecture().is_none()); // the executor then takes the best sample
/// # Ok::<(), StrategyError>(())
/// ```
pub trait Strategy: std::fmt::Debug {
    /// A short name (`tnd`, `random`, `rea`), written into results and logs.
    fn name(&self) -> &str;

    /// The candidate ops of every edge in the current stage; a supernet evaluator builds
    /// its stage over them.
    fn active(&self) -> Vec<Vec<OpKind>>;

    /// How many architectures the strategy would like scored at a time (M for TND).
    fn batch_size(&self) -> usize;

    /// Proposes `n` architectures, each with one op per edge out of [`Strategy::active`].
    fn ask(&mut self, n: usize) -> Vec<Architecture>;

    /// Receives the rewards of a batch from [`Strategy::ask`] (`rewards[m]` belongs to
    /// `batch[m]`; larger is better). Returns the policy update's statistics where the
    /// strategy has a policy.
    ///
    /// # Errors
    /// A batch that does not fit the strategy, or a failed update.
    fn tell(
        &mut self,
        batch: &[Architecture],
        rewards: &[f64],
    ) -> Result<Option<UpdateStats>, StrategyError>;

    /// The distribution over [`Strategy::active`] on every edge, where the strategy has
    /// one: a weighted supernet mixes its ops with it and a single-path supernet samples
    /// from it. `None` (the default) trains the supernet uniformly.
    fn probabilities(&self) -> Option<Vec<Vec<f64>>> {
        None
    }

    /// Takes note of how many batches the evaluator plans to score in the stage that
    /// opens (`None`: unknown), before the stage's first [`Strategy::ask`]; called again
    /// with the same number when a search resumes mid-stage. TND ties its step size to
    /// it. Default: ignored.
    fn plan_stage(&mut self, batches: Option<u64>) {
        let _ = batches;
    }

    /// Takes note of how many preferences the reward offers
    /// ([`crate::objective::Reward::preferences`]), before the search's first
    /// [`Strategy::ask`] and again when it resumes. TND keeps one policy per preference.
    /// Default: ignored.
    ///
    /// # Errors
    /// A count the strategy cannot take (TND: another count than a restored state's).
    fn set_preferences(&mut self, count: usize) -> Result<(), StrategyError> {
        let _ = count;
        Ok(())
    }

    /// The preference whose rewards the next [`Strategy::tell`] wants (the batch of the
    /// last [`Strategy::ask`] was drawn for it). `None` (the default): the strategy
    /// has no preference of its own and gets the reward's balanced one.
    fn preference(&self) -> Option<usize> {
        None
    }

    /// Closes the current stage and returns the ops each edge dropped (default: none).
    ///
    /// # Errors
    /// A shrink that does not fit the space.
    fn end_stage(&mut self) -> Result<Vec<Vec<OpKind>>, StrategyError> {
        Ok(vec![Vec::new(); self.active().len()])
    }

    /// The architecture the strategy itself recommends after its last stage (TND: what
    /// the shrinking left). `None` (the default) makes the executor return the
    /// best-rewarded sample.
    fn final_architecture(&self) -> Option<Architecture> {
        None
    }

    /// The whole state, for a checkpoint.
    ///
    /// # Errors
    /// A state that cannot be serialised.
    fn save(&self) -> Result<serde_json::Value, StrategyError>;

    /// Replaces the state with one from [`Strategy::save`].
    ///
    /// # Errors
    /// [`StrategyError::State`] when the state is not this strategy's.
    fn restore(&mut self, state: serde_json::Value) -> Result<(), StrategyError>;
}

/// Checks that `tell` got one reward per architecture, each finite.
pub(crate) fn check_tell(batch: &[Architecture], rewards: &[f64]) -> Result<(), StrategyError> {
    if batch.len() != rewards.len() {
        return Err(StrategyError::Tell(format!(
            "{} architectures but {} rewards",
            batch.len(),
            rewards.len()
        )));
    }
    if let Some((i, r)) = rewards.iter().enumerate().find(|(_, r)| !r.is_finite()) {
        return Err(StrategyError::Tell(format!(
            "reward {i} is {r}, not finite"
        )));
    }
    Ok(())
}

/// [`check_tell`], and every architecture with one op per edge of a space of `edges`.
pub(crate) fn check_tell_in(
    batch: &[Architecture],
    rewards: &[f64],
    edges: usize,
) -> Result<(), StrategyError> {
    check_tell(batch, rewards)?;
    match batch.iter().find(|a| a.len() != edges) {
        Some(a) => Err(StrategyError::Tell(format!(
            "an architecture has {} edges, the space {edges}",
            a.len()
        ))),
        None => Ok(()),
    }
}
