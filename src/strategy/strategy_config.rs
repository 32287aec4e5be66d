//! Which built-in strategy a search runs.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{LocalSearchConfig, Random, RegularizedEvolutionConfig, Strategy, StrategyError, Tnd};
use crate::SearchSpace;
use crate::policy::UpdaterConfig;
use crate::schedule::ShrinkScheduleConfig;

/// The built-in strategies, as a search configuration names them. [`StrategyConfig::init`]
/// builds one; a strategy of your own goes straight to
/// [`crate::search::Search::with_strategy`].
///
/// On the command line: `tnd`, `random`, `rea` (P = 10, S = 3),
/// `rea:population=P,tournament=S`, `ls` (ten random starts) or `ls:init=N`.
///
/// ```
/// use tnd_nas::strategy::StrategyConfig;
/// let rea: StrategyConfig = "rea:population=20,tournament=5".parse()?;
/// assert_eq!(rea.to_string(), "rea:population=20,tournament=5");
/// assert_eq!("tnd".parse::<StrategyConfig>()?, StrategyConfig::Tnd);
/// assert!("rea:population=0".parse::<StrategyConfig>().is_err());
/// let ls: StrategyConfig = "ls:init=20".parse()?;
/// assert_eq!(ls.to_string(), "ls:init=20");
/// assert_eq!("ls".parse::<StrategyConfig>()?.to_string(), "ls");
/// assert!("ls:population=3".parse::<StrategyConfig>().is_err());
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
    /// Local search (White et al. 2021).
    Ls(LocalSearchConfig),
}

impl StrategyConfig {
    /// The strategy over `space`: TND with `updater` and `schedule`; random search,
    /// evolution and local search over the whole space, proposing `updater.samples` at a
    /// time (random) or their configured batch (evolution, local search). Every random choice is seeded by `seed`.
    ///
    /// # Errors
    /// The updater's, schedule's, evolution's or local search's validation errors.
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
            StrategyConfig::Ls(cfg) => Box::new(cfg.init(space.all_candidates(), seed)?),
        })
    }

    /// Checks the strategy's own settings.
    ///
    /// # Errors
    /// Evolution's or local search's validation errors.
    pub fn validate(&self) -> Result<(), StrategyError> {
        match self {
            StrategyConfig::Rea(c) => c.validate(),
            StrategyConfig::Ls(c) => c.validate(),
            StrategyConfig::Tnd | StrategyConfig::Random => Ok(()),
        }
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
            StrategyConfig::Ls(c) if *c == LocalSearchConfig::new() => f.write_str("ls"),
            StrategyConfig::Ls(c) => write!(f, "ls:init={}", c.init),
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
                for (key, n) in settings("rea", args, &["population", "tournament"])? {
                    match key {
                        "population" => cfg.population = n,
                        _ => cfg.tournament = n,
                    }
                }
                cfg.validate()?;
                StrategyConfig::Rea(cfg)
            }
            "ls" => {
                let mut cfg = LocalSearchConfig::new();
                for (_, n) in settings("ls", args, &["init"])? {
                    cfg.init = n;
                }
                cfg.validate()?;
                StrategyConfig::Ls(cfg)
            }
            other => {
                return Err(StrategyError::config(
                    "strategy",
                    format!("unknown strategy `{other}` (expected tnd, random, rea or ls)"),
                ));
            }
        };
        Ok(config)
    }
}

/// The `KEY=VALUE,...` settings of strategy `name`, each a whole number and one of `keys`,
/// none given twice.
fn settings(
    name: &str,
    args: &str,
    keys: &[&'static str],
) -> Result<Vec<(&'static str, usize)>, StrategyError> {
    let mut out: Vec<(&'static str, usize)> = Vec::new();
    for kv in args.split(',').filter(|kv| !kv.is_empty()) {
        let (key, value) = kv
            .split_once('=')
            .ok_or_else(|| StrategyError::config("strategy", format!("`{kv}` is not KEY=VALUE")))?;
        let Some(&key) = keys.iter().find(|k| **k == key) else {
            return Err(StrategyError::config(
                "strategy",
                format!(
                    "unknown {name} setting `{key}` (expected {})",
                    keys.join(", ")
                ),
            ));
        };
        if out.iter().any(|(k, _)| *k == key) {
            return Err(StrategyError::config(
                "strategy",
                format!("`{key}` is given twice"),
            ));
        }
        let n: usize = value.parse().map_err(|_| {
            StrategyError::config(
                &format!("{name}.{key}"),
                format!("needs a whole number, got `{value}`"),
            )
        })?;
        out.push((key, n));
    }
    Ok(out)
}
