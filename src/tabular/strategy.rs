//! How a tabular search picks architectures.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::TabularError;

/// The search strategy of a tabular search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// TND-NAS: REINFORCE on alpha with progressive shrinking.
    Tnd,
    /// Uniform random sampling with the same budget; the best-rewarded sample wins.
    Random,
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Strategy::Tnd => "tnd",
            Strategy::Random => "random",
        })
    }
}

impl FromStr for Strategy {
    type Err = TabularError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "tnd" => Ok(Strategy::Tnd),
            "random" => Ok(Strategy::Random),
            other => Err(TabularError::InvalidConfig(format!(
                "unknown strategy `{other}` (expected `tnd` or `random`)"
            ))),
        }
    }
}
