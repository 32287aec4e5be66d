//! Zero-cost proxies: scores of an architecture's freshly initialised evaluation network,
//! without training (Abdelfattah et al., ICLR 2021; Mellor et al., ICML 2021).
//!
//! - [`synflow`]: data-free; the sum of `|w * dR/dw|` over conv and linear weights, with
//!   every weight made positive, BN left out and one all-ones input.
//! - [`naswot`]: the log-determinant of the binary ReLU-code kernel of one batch.
//! - [`grad_norm`] and [`snip`]: the gradient norms and `|w * dL/dw|` of the
//!   cross-entropy loss of one batch.
//!
//! Each works on any network built on an autodiff backend (any [`crate::eval::BuildNetwork`]:
//! DARTS, NAS-Bench-201, MBConv, a space of your own); [`ZeroCostProxy`] names them on the
//! command line, and [`score`] runs any of them on a network.

mod error;
mod gradient;
mod naswot;
mod proxy_kind;
mod score;
mod synflow;

pub use error::ProxyError;
pub use gradient::{grad_norm, snip};
pub use naswot::{log_abs_det, naswot};
pub use proxy_kind::ZeroCostProxy;
pub use score::{ProxyInput, score};
pub use synflow::synflow;
