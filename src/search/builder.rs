//! [`SearchBuilder`]: a [`Search`] assembled by name instead of by position.

use burn::tensor::backend::AutodiffBackend;

use super::{Search, SearchConfig, SearchError, TableSearchConfig};
use crate::SearchSpace;
use crate::data::ImageDataset;
use crate::objective::{Objective, Reward};
use crate::scoring::{SupernetSpace, TrainableSupernet};

/// A [`Search`] assembled step by step: the space ([`Search::builder`]), its objectives
/// and reward, then what scores the samples: a supernet trained on data
/// ([`build`](Self::build)) or the objectives alone ([`build_table`](Self::build_table)).
///
/// ```
/// use tnd_nas::objective::{Direction, LookupTable, WeightedSum};
/// use tnd_nas::search::{Search, TableSearchConfig};
/// use tnd_nas::spaces::nb201::Nb201Space;
/// use tnd_nas::OpKind;
///
/// // A toy "accuracy": 3x3 convs are worth most (a lookup table, maximised).
/// let acc = LookupTable::new("acc")
///     .with_direction(Direction::Maximise)
///     .with_cost(OpKind::None, 0.0).with_cost(OpKind::SkipConnect, 1.0)
///     .with_cost(OpKind::AvgPool3x3, 1.0).with_cost(OpKind::NorConv1x1, 2.0)
///     .with_cost(OpKind::NorConv3x3, 3.0);
/// let mut search = Search::builder(Nb201Space::new())
///     .objective(acc)
///     .reward(WeightedSum::new(vec![1.0])?)
///     .build_table(TableSearchConfig::new(600).with_seed(1))?;
/// let result = search.run(&mut [])?;
/// assert!(result.sample_count <= 600); // distinct architectures scored
/// assert_eq!(result.final_architecture.architecture.ops(), [OpKind::NorConv3x3; 6]);
///
/// // Without a reward there is nothing to build.
/// assert!(Search::builder(Nb201Space::new()).build_table(TableSearchConfig::new(10)).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "a builder does nothing until it is built"]
pub struct SearchBuilder<S> {
    space: S,
    objectives: Vec<Box<dyn Objective>>,
    reward: Option<Box<dyn Reward>>,
}

impl<S> std::fmt::Debug for SearchBuilder<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.objectives.iter().map(|o| o.name()).collect();
        f.debug_struct("SearchBuilder")
            .field("objectives", &names)
            .field("reward", &self.reward.as_ref().map(|r| r.describe()))
            .finish_non_exhaustive()
    }
}

impl Search {
    /// Starts a [`SearchBuilder`] over `space`.
    pub fn builder<S: SearchSpace + 'static>(space: S) -> SearchBuilder<S> {
        SearchBuilder {
            space,
            objectives: Vec::new(),
            reward: None,
        }
    }
}

impl<S: SearchSpace + 'static> SearchBuilder<S> {
    /// Adds an objective (after those added before).
    pub fn objective(mut self, objective: impl Objective + 'static) -> Self {
        self.objectives.push(Box::new(objective));
        self
    }

    /// Adds objectives, in order.
    pub fn objectives(mut self, objectives: impl IntoIterator<Item = Box<dyn Objective>>) -> Self {
        self.objectives.extend(objectives);
        self
    }

    /// The reward that combines the objectives' values (replaces an earlier one). A
    /// `Box<dyn Reward>` (e.g. from [`crate::objective::reward_from_spec`]) is a reward
    /// too.
    pub fn reward(mut self, reward: impl Reward + 'static) -> Self {
        self.reward = Some(Box::new(reward));
        self
    }

    /// Prepares the TND-NAS supernet search (or the baseline `config.strategy` names) on
    /// `data`, on `device` of backend `B`: validates the configuration, the schedule
    /// against the space, the reward against the objectives, and splits `data` into the
    /// half that trains `w` and the half that scores samples. Nothing is trained or
    /// written yet. The strategy is [`SearchConfig::strategy`] (TND by default); the
    /// objectives measure the space's default evaluation network (see
    /// [`Search::with_network`]). See [`Search`] for an example.
    ///
    /// # Errors
    /// No reward given, or any other invalid setting, named, before any work.
    pub fn build<B>(
        self,
        config: SearchConfig,
        data: ImageDataset,
        device: B::Device,
    ) -> Result<Search, SearchError>
    where
        B: AutodiffBackend,
        S: SupernetSpace,
        S::Supernet<B>: TrainableSupernet<B>,
    {
        let reward = given(self.reward)?;
        Search::new::<B, S>(config, self.space, self.objectives, reward, data, device)
    }

    /// Prepares a search scored by the objectives alone
    /// ([`TableEvaluator`](crate::scoring::TableEvaluator)): table lookups, analytic
    /// counts. No network is trained; `config.budget` distinct architectures are split
    /// over the schedule's stages (repeats are rewarded with their first score and cost
    /// nothing). See [`SearchBuilder`] for an example.
    ///
    /// # Errors
    /// No reward given, a zero budget (or one beyond the space's size), an invalid
    /// updater, schedule or strategy, a reward that does not fit the objectives; all
    /// before any sample is scored.
    pub fn build_table(self, config: TableSearchConfig) -> Result<Search, SearchError> {
        let reward = given(self.reward)?;
        Search::table(config, self.space, self.objectives, reward)
    }
}

/// The reward, or the error that none was given.
fn given(reward: Option<Box<dyn Reward>>) -> Result<Box<dyn Reward>, SearchError> {
    reward.ok_or_else(|| SearchError::config("reward", "none given (SearchBuilder::reward)"))
}
