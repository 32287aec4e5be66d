//! [`SearchBuilder`]: a [`Search`] assembled by name instead of by position.

use burn::tensor::backend::AutodiffBackend;

use super::{Search, SearchConfig, SearchError, TableSearchConfig};
use crate::SearchSpace;
use crate::data::ImageDataset;
use crate::evaluate::{SupernetSpace, TrainableSupernet};
use crate::objective::{Objective, Reward};

/// A [`Search`] assembled step by step: the space ([`Search::builder`]), its objectives
/// and reward, then what scores the samples: a supernet trained on data
/// ([`build`](Self::build)) or the objectives alone ([`build_table`](Self::build_table)).
///
/// ```
/// use tnd_nas::objective::{Direction, LookupTable, WeightedSum};
/// use tnd_nas::search::{Search, TableSearchConfig};
/// use tnd_nas::space::Nb201Space;
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

    /// The reward that combines the objectives' values (replaces an earlier one).
    pub fn reward(mut self, reward: impl Reward + 'static) -> Self {
        self.reward = Some(Box::new(reward));
        self
    }

    /// The TND-NAS supernet search (or the baseline `config.strategy` names) on `data`,
    /// on `device` of backend `B`: see [`Search::new`].
    ///
    /// # Errors
    /// No reward given, or any error of [`Search::new`].
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

    /// A search scored by the objectives alone: see [`Search::table`].
    ///
    /// # Errors
    /// No reward given, or any error of [`Search::table`].
    pub fn build_table(self, config: TableSearchConfig) -> Result<Search, SearchError> {
        let reward = given(self.reward)?;
        Search::table(config, self.space, self.objectives, reward)
    }
}

/// The reward, or the error that none was given.
fn given(reward: Option<Box<dyn Reward>>) -> Result<Box<dyn Reward>, SearchError> {
    reward.ok_or_else(|| SearchError::config("reward", "none given (SearchBuilder::reward)"))
}
