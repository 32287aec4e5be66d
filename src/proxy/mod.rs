//! Zero-cost proxies: scores of an architecture's freshly initialised evaluation network,
//! without training (Abdelfattah et al., ICLR 2021; Mellor et al., ICML 2021).
//!
//! - [`synflow`]: data-free; the sum of `|w * dR/dw|` over conv and linear weights, with
//!   every weight made positive, BN left out and one all-ones input.
//! - [`naswot`]: the log-determinant of the binary ReLU-code kernel of one batch.
//! - [`grad_norm`] and [`snip`]: the gradient norms and `|w * dL/dw|` of the
//!   cross-entropy loss of one batch.
//!
//! - [`ZeroCost`] (`zero-cost`): the recommended data-free score, synflow and the
//!   parameter count standardised on a reference sample of the space.
//!
//! Each works on any network built on an autodiff backend (any [`crate::network::BuildNetwork`]:
//! DARTS, NAS-Bench-201, MBConv, a space of your own); [`ZeroCostProxy`] names them on the
//! command line, [`score`] runs any of them on a network, and a [`ProxyScorer`] scores
//! architectures (building each network from one seed); it is also a search
//! [`crate::objective::Objective`].

mod error;
mod gradient;
mod naswot;
mod proxy_kind;
mod score;
mod scorer;
mod synflow;
mod zero_cost;

pub use error::ProxyError;
pub use gradient::{grad_norm, snip};
pub use naswot::{log_abs_det, naswot};
pub use proxy_kind::ZeroCostProxy;
pub use score::{ProxyInput, score};
pub use scorer::{ProxyScorer, ProxyScorerConfig};
pub use synflow::synflow;
pub use zero_cost::ZeroCost;
