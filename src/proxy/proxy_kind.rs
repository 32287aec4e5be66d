//! The proxies by name.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::ProxyError;

/// The built-in zero-cost proxies, as the command line and configurations name them.
///
/// ```
/// use tnd_nas::proxy::ZeroCostProxy;
/// let p: ZeroCostProxy = "grad_norm".parse()?;
/// assert_eq!(p, ZeroCostProxy::GradNorm);
/// assert_eq!(p.to_string(), "grad_norm");
/// assert!(!ZeroCostProxy::Synflow.needs_data());
/// assert_eq!("zero-cost".parse::<ZeroCostProxy>()?, ZeroCostProxy::ZeroCost);
/// assert!("jacob".parse::<ZeroCostProxy>().is_err());
/// # Ok::<(), tnd_nas::proxy::ProxyError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ZeroCostProxy {
    /// [`super::synflow`] (data-free).
    Synflow,
    /// [`super::naswot`] (one batch).
    Naswot,
    /// [`super::grad_norm`] (one batch).
    GradNorm,
    /// [`super::snip`] (one batch).
    Snip,
    /// [`super::ZeroCost`]: synflow and the parameter count, standardised on a
    /// reference sample of the space (data-free; scored by a [`super::ProxyScorer`]).
    ZeroCost,
}

impl ZeroCostProxy {
    /// Every proxy, in a fixed order.
    pub const ALL: [ZeroCostProxy; 5] = [
        ZeroCostProxy::Synflow,
        ZeroCostProxy::Naswot,
        ZeroCostProxy::GradNorm,
        ZeroCostProxy::Snip,
        ZeroCostProxy::ZeroCost,
    ];

    /// Whether the proxy reads a batch of the user's data.
    pub fn needs_data(self) -> bool {
        !matches!(self, ZeroCostProxy::Synflow | ZeroCostProxy::ZeroCost)
    }

    /// The name (`synflow`, `naswot`, `grad_norm`, `snip`, `zero_cost`).
    pub fn name(self) -> &'static str {
        match self {
            ZeroCostProxy::Synflow => "synflow",
            ZeroCostProxy::Naswot => "naswot",
            ZeroCostProxy::GradNorm => "grad_norm",
            ZeroCostProxy::Snip => "snip",
            ZeroCostProxy::ZeroCost => "zero_cost",
        }
    }
}

impl fmt::Display for ZeroCostProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ZeroCostProxy {
    type Err = ProxyError;

    /// A name, with `-` or `_` between words (`grad-norm`, `zero-cost`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.replace('-', "_");
        Self::ALL
            .into_iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| ProxyError::Unknown(s.to_string()))
    }
}
