//! Which built-in strategy a search runs.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{Random, RegularizedEvolutionConfig, Strategy, StrategyError, Tnd};
use crate::SearchSpace;
use crate::policy::UpdaterConfig;
use crate::schedule::ShrinkScheduleConfig;

/// The built-in strategies, as a search configuration names them. [`StrategyConfig::init`]
/// builds one; a strategy of your own goes straight to
/// [`crate::search::Search::with_strategy`].
///
/// On the command line: `tnd`, `random`, `rea` (P = 10, S = 3) or
/// `rea:population=P,tournament=S`.
///
/// ```
/// use tnd_nas::strategy::StrategyConfig;
/// let rea: StrategyConfig = "rea:population=20,tournament=5".parse()?;
/// assert_eq!(rea.to_string(), "rea:population=20,tournament=5");
/// assert_eq!("tnd".parse::<StrategyConfig>()?, StrategyConfig::Tnd);
/// assert!("rea:population=0".parse::<StrategyConfig>().is_err());
/// # Ok::<(), tnd_nas::strategy::StrategyError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum StrategyConfig {
    /// TND-NAS with the search's updater and shrinking schedule (default).
    #[default]
    Tnd,
    /// Uniform random sampling from the whole space.
    Random,
    /// Regularised evolution.
    Rea(RegularizedEvolutionConfig),
}

impl StrategyConfig {
    /// The strategy over `space`: TND with `updater` and `schedule`; random search and
    /// evolution over the whole space, proposing `updater.samples` at a time (random) or
    /// their configured batch (evolution). Every random choice is seeded by `seed`.
    ///
    /// # Errors
    /// The updater's, schedule's or evolution's validation errors.
    pub fn init(
        &self,
        space: &dyn SearchSpace,
        updater: &UpdaterConfig,
        schedule: &ShrinkScheduleConfig,
        seed: u64,
    ) -> Result<Box<dyn Strategy>, StrategyError> {
        Ok(match self {
            StrategyConfig::Tnd => {
                Box::new(Tnd::new(updater.clone(), schedule.init(space)?, seed)?)
            }
            StrategyConfig::Random => {
                Box::new(Random::new(space.all_candidates(), seed, updater.samples))
            }
            StrategyConfig::Rea(cfg) => Box::new(cfg.init(space.all_candidates(), seed)?),
        })
    }

    /// Whether the strategy shrinks the space between stages (only TND does).
    pub fn shrinks(&self) -> bool {
        matches!(self, StrategyConfig::Tnd)
    }
}

impl fmt::Display for StrategyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StrategyConfig::Tnd => f.write_str("tnd"),
            StrategyConfig::Random => f.write_str("random"),
            StrategyConfig::Rea(c) if *c == RegularizedEvolutionConfig::new() => f.write_str("rea"),
            StrategyConfig::Rea(c) => write!(
                f,
                "rea:population={},tournament={}",
                c.population, c.tournament
            ),
        }
    }
}

impl FromStr for StrategyConfig {
    type Err = StrategyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, args) = s.split_once(':').unwrap_or((s, ""));
        let config = match name {
            "tnd" | "random" if !args.is_empty() => {
                return Err(StrategyError::config(
                    "strategy",
                    format!("`{name}` takes no settings, got `{args}`"),
                ));
            }
            "tnd" => StrategyConfig::Tnd,
            "random" => StrategyConfig::Random,
            "rea" => {
                let mut cfg = RegularizedEvolutionConfig::new();
                let mut seen = Vec::new();
                for kv in args.split(',').filter(|kv| !kv.is_empty()) {
                    let (key, value) = kv.split_once('=').ok_or_else(|| {
                        StrategyError::config("strategy", format!("`{kv}` is not KEY=VALUE"))
                    })?;
                    if seen.contains(&key) {
                        return Err(StrategyError::config(
                            "strategy",
                            format!("`{key}` is given twice"),
                        ));
                    }
                    seen.push(key);
                    let n: usize = value.parse().map_err(|_| {
                        StrategyError::config(
                            &format!("rea.{key}"),
                            format!("needs a whole number, got `{value}`"),
                        )
                    })?;
                    match key {
                        "population" => cfg.population = n,
                        "tournament" => cfg.tournament = n,
                        other => {
                            return Err(StrategyError::config(
                                "strategy",
                                format!(
                                    "unknown rea setting `{other}` (expected population, tournament)"
                                ),
                            ));
                        }
                    }
                }
                cfg.validate()?;
                StrategyConfig::Rea(cfg)
            }
            other => {
                return Err(StrategyError::config(
                    "strategy",
                    format!("unknown strategy `{other}` (expected tnd, random or rea)"),
                ));
            }
        };
        Ok(config)
    }
}
