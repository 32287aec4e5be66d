//! A categorical distribution per edge, with `alpha` as its logits.

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::{PolicyError, exact_float};
use crate::{Architecture, OpKind};

/// The architecture policy of TND-NAS: on every edge an independent categorical
/// distribution over the edge's active ops, `p_e = softmax(alpha_e)`. No controller
/// network: `alpha` is the policy.
///
/// ```
/// use rand::SeedableRng;
/// use rand_chacha::ChaCha8Rng;
/// use tnd_nas::policy::CategoricalPolicy;
/// use tnd_nas::OpKind;
/// let active = vec![vec![OpKind::None, OpKind::SkipConnect], vec![OpKind::NorConv1x1, OpKind::NorConv3x3, OpKind::AvgPool3x3]];
/// let policy = CategoricalPolicy::with_alpha(active, vec![vec![0.0, 0.0], vec![2.0, 0.0, 0.0]])?;
/// assert_eq!(policy.probabilities()[0], vec![0.5, 0.5]);
/// let arch = policy.sample(&mut ChaCha8Rng::seed_from_u64(0));
/// assert_eq!(arch.len(), 2);
/// // grad log p = onehot - softmax, per edge.
/// let g = policy.grad_log_prob(&policy.indices_of(&arch)?);
/// assert!(g.iter().all(|e| e.iter().sum::<f64>().abs() < 1e-12));
/// # Ok::<(), tnd_nas::policy::PolicyError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "PolicyState")]
pub struct CategoricalPolicy {
    active: Vec<Vec<OpKind>>,
    #[serde(with = "exact_float::nested")]
    alpha: Vec<Vec<f64>>,
}

/// The serialised form, validated on the way in.
#[derive(Deserialize)]
struct PolicyState {
    active: Vec<Vec<OpKind>>,
    #[serde(with = "exact_float::nested")]
    alpha: Vec<Vec<f64>>,
}

impl TryFrom<PolicyState> for CategoricalPolicy {
    type Error = PolicyError;

    fn try_from(state: PolicyState) -> Result<Self, PolicyError> {
        Self::with_alpha(state.active, state.alpha)
    }
}

impl CategoricalPolicy {
    /// A uniform policy (`alpha = 0`) over `active[e]` on each edge `e`.
    ///
    /// # Errors
    /// [`PolicyError::InvalidOps`] for no edges, an edge with no ops, or an op listed
    /// twice on an edge.
    pub fn new(active: Vec<Vec<OpKind>>) -> Result<Self, PolicyError> {
        let alpha = active.iter().map(|ops| vec![0.0; ops.len()]).collect();
        Self::with_alpha(active, alpha)
    }

    /// A policy with the given logits.
    ///
    /// # Errors
    /// As [`CategoricalPolicy::new`], plus [`PolicyError::AlphaShape`] when the logits
    /// do not match the ops and [`PolicyError::InvalidOps`] for a non-finite logit.
    pub fn with_alpha(active: Vec<Vec<OpKind>>, alpha: Vec<Vec<f64>>) -> Result<Self, PolicyError> {
        if active.is_empty() {
            return Err(PolicyError::InvalidOps("no edges".into()));
        }
        for (e, ops) in active.iter().enumerate() {
            if ops.is_empty() {
                return Err(PolicyError::InvalidOps(format!(
                    "edge {e} has no active op"
                )));
            }
            if let Some((i, op)) = ops
                .iter()
                .enumerate()
                .find(|(i, op)| ops[..*i].contains(op))
            {
                return Err(PolicyError::InvalidOps(format!(
                    "edge {e} lists `{op}` twice (position {i})"
                )));
            }
        }
        if alpha.len() != active.len() {
            return Err(PolicyError::WrongLength {
                expected: active.len(),
                found: alpha.len(),
            });
        }
        for (e, (ops, a)) in active.iter().zip(&alpha).enumerate() {
            if ops.len() != a.len() {
                return Err(PolicyError::AlphaShape {
                    edge: e,
                    expected: ops.len(),
                    found: a.len(),
                });
            }
            if a.iter().any(|x| !x.is_finite()) {
                return Err(PolicyError::InvalidOps(format!(
                    "edge {e} has a non-finite logit"
                )));
            }
        }
        Ok(Self { active, alpha })
    }

    /// A policy with logits `scale * N(0, 1)` drawn from `rng` (the paper uses 1e-3).
    ///
    /// # Errors
    /// As [`CategoricalPolicy::new`].
    pub fn random<R: Rng + ?Sized>(
        active: Vec<Vec<OpKind>>,
        scale: f64,
        rng: &mut R,
    ) -> Result<Self, PolicyError> {
        let alpha = active
            .iter()
            .map(|ops| ops.iter().map(|_| scale * standard_normal(rng)).collect())
            .collect();
        Self::with_alpha(active, alpha)
    }

    /// Number of edges.
    pub fn num_edges(&self) -> usize {
        self.active.len()
    }

    /// The active ops of every edge.
    pub fn active(&self) -> &[Vec<OpKind>] {
        &self.active
    }

    /// The logits of every edge (one per active op).
    pub fn alpha(&self) -> &[Vec<f64>] {
        &self.alpha
    }

    /// Mutable logits, for optimisers; the shape must not change.
    pub(crate) fn alpha_mut(&mut self) -> &mut [Vec<f64>] {
        &mut self.alpha
    }

    /// `softmax(alpha_e)` for every edge.
    pub fn probabilities(&self) -> Vec<Vec<f64>> {
        self.alpha.iter().map(|a| softmax(a)).collect()
    }

    /// `softmax(alpha_e)` of one edge.
    pub fn edge_probabilities(&self, edge: usize) -> Option<Vec<f64>> {
        self.alpha.get(edge).map(|a| softmax(a))
    }

    /// Samples one op index per edge.
    pub fn sample_indices<R: Rng + ?Sized>(&self, rng: &mut R) -> Vec<usize> {
        sample_from(&self.probabilities(), rng)
    }

    /// Samples an architecture.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Architecture {
        self.architecture(&self.sample_indices(rng))
    }

    /// The architecture of op indices (one per edge, into the active lists).
    ///
    /// Indices out of range pick the edge's last active op.
    pub fn architecture(&self, indices: &[usize]) -> Architecture {
        Architecture::new(
            self.active
                .iter()
                .zip(indices)
                .map(|(ops, &i)| ops[i.min(ops.len() - 1)])
                .collect(),
        )
    }

    /// The op index (into the active list) of every edge of `arch`.
    ///
    /// # Errors
    /// [`PolicyError::WrongLength`] or [`PolicyError::InactiveOp`].
    pub fn indices_of(&self, arch: &Architecture) -> Result<Vec<usize>, PolicyError> {
        if arch.len() != self.active.len() {
            return Err(PolicyError::WrongLength {
                expected: self.active.len(),
                found: arch.len(),
            });
        }
        self.active
            .iter()
            .zip(arch.ops())
            .enumerate()
            .map(|(e, (ops, op))| {
                ops.iter()
                    .position(|o| o == op)
                    .ok_or_else(|| PolicyError::InactiveOp {
                        edge: e,
                        op: op.to_string(),
                        active: ops.iter().map(|o| o.name()).collect::<Vec<_>>().join(", "),
                    })
            })
            .collect()
    }

    /// `log p(arch) = sum_e log p_e(a_e)`.
    ///
    /// # Errors
    /// As [`CategoricalPolicy::indices_of`].
    pub fn log_prob(&self, arch: &Architecture) -> Result<f64, PolicyError> {
        let idx = self.indices_of(arch)?;
        Ok(self
            .alpha
            .iter()
            .zip(idx)
            .map(|(a, i)| {
                let m = max(a);
                a[i] - m - a.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
            })
            .sum())
    }

    /// `grad_alpha log p(a) = onehot(a_e) - softmax(alpha_e)` on every edge, for op
    /// indices `indices` (one per edge).
    pub fn grad_log_prob(&self, indices: &[usize]) -> Vec<Vec<f64>> {
        let mut g: Vec<Vec<f64>> = self
            .probabilities()
            .into_iter()
            .map(|p| p.into_iter().map(|x| -x).collect())
            .collect();
        for (ge, &i) in g.iter_mut().zip(indices) {
            if let Some(x) = ge.get_mut(i) {
                *x += 1.0;
            }
        }
        g
    }

    /// `sum_m c_m * grad_alpha log p(a_m)` for samples given as op indices.
    ///
    /// With `c_m = (R_m - b) / M` this is the REINFORCE gradient estimate; with
    /// `c_a = p(a) R(a)` summed over all architectures it is the exact gradient of `E[R]`.
    pub fn score_gradient(&self, samples: &[Vec<usize>], coefficients: &[f64]) -> Vec<Vec<f64>> {
        let probs = self.probabilities();
        let mut g: Vec<Vec<f64>> = probs.iter().map(|p| vec![0.0; p.len()]).collect();
        let total: f64 = coefficients.iter().sum();
        for (idx, &c) in samples.iter().zip(coefficients) {
            for (ge, &i) in g.iter_mut().zip(idx) {
                if let Some(x) = ge.get_mut(i) {
                    *x += c;
                }
            }
        }
        // The -softmax part of every sample's score, summed over samples at once.
        for (ge, p) in g.iter_mut().zip(&probs) {
            for (x, pi) in ge.iter_mut().zip(p) {
                *x -= total * pi;
            }
        }
        g
    }

    /// Total entropy `sum_e H(p_e)` in nats.
    pub fn entropy(&self) -> f64 {
        entropy_of(&self.probabilities())
    }

    /// `grad_alpha sum_e H(p_e)`: `-p_j (log p_j + H_e)` on each edge.
    pub fn entropy_gradient(&self) -> Vec<Vec<f64>> {
        self.probabilities()
            .into_iter()
            .map(|p| {
                let h = edge_entropy(&p);
                p.iter()
                    .map(|&x| if x > 0.0 { -x * (x.ln() + h) } else { 0.0 })
                    .collect()
            })
            .collect()
    }

    /// The most likely op of every edge (ties go to the earlier op).
    pub fn most_likely(&self) -> Architecture {
        let idx: Vec<usize> = self
            .alpha
            .iter()
            .map(|a| {
                a.iter()
                    .enumerate()
                    .fold(0, |best, (i, x)| if *x > a[best] { i } else { best })
            })
            .collect();
        self.architecture(&idx)
    }
}

/// Samples one index per row of probabilities.
pub(crate) fn sample_from<R: Rng + ?Sized>(probs: &[Vec<f64>], rng: &mut R) -> Vec<usize> {
    probs
        .iter()
        .map(|p| {
            let u: f64 = rng.random();
            let mut acc = 0.0;
            for (i, x) in p.iter().enumerate() {
                acc += x;
                if u < acc {
                    return i;
                }
            }
            p.len() - 1
        })
        .collect()
}

fn max(a: &[f64]) -> f64 {
    a.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}

/// A numerically stable softmax.
pub(crate) fn softmax(a: &[f64]) -> Vec<f64> {
    let m = max(a);
    let e: Vec<f64> = a.iter().map(|x| (x - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.into_iter().map(|x| x / s).collect()
}

/// One standard normal draw (Box-Muller).
pub(crate) fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// The entropy of one edge's distribution (nats).
fn edge_entropy(p: &[f64]) -> f64 {
    p.iter().filter(|&&x| x > 0.0).map(|x| -x * x.ln()).sum()
}

/// The total entropy (nats, summed over edges) of per-edge distributions, e.g. a
/// stage's `softmax(alpha)`; its maximum is `sum_e ln(ops_e)`.
///
/// ```
/// let h = tnd_nas::policy::entropy_of(&[vec![0.5, 0.5], vec![1.0]]);
/// assert!((h - 2f64.ln()).abs() < 1e-12);
/// ```
pub fn entropy_of(probabilities: &[Vec<f64>]) -> f64 {
    probabilities.iter().map(|p| edge_entropy(p)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn ops(n: usize) -> Vec<OpKind> {
        OpKind::ALL[..n].to_vec()
    }

    #[test]
    fn validation() {
        assert!(CategoricalPolicy::new(vec![]).is_err());
        assert!(CategoricalPolicy::new(vec![vec![]]).is_err());
        assert!(CategoricalPolicy::new(vec![vec![OpKind::None, OpKind::None]]).is_err());
        assert!(matches!(
            CategoricalPolicy::with_alpha(vec![ops(2)], vec![vec![0.0]]),
            Err(PolicyError::AlphaShape { edge: 0, .. })
        ));
        let p = CategoricalPolicy::new(vec![ops(2), ops(3)]).unwrap();
        assert!(matches!(
            p.indices_of(&Architecture::new(vec![OpKind::None, OpKind::NorConv3x3])),
            Err(PolicyError::InactiveOp { edge: 1, .. })
        ));
    }

    #[test]
    fn sampling_frequencies_match_probabilities() {
        let p = CategoricalPolicy::with_alpha(vec![ops(3)], vec![vec![1.0, 0.0, -1.0]]).unwrap();
        let probs = p.probabilities()[0].clone();
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let n = 20_000;
        let mut counts = [0usize; 3];
        for _ in 0..n {
            counts[p.sample_indices(&mut rng)[0]] += 1;
        }
        for (c, q) in counts.iter().zip(&probs) {
            assert!(
                (*c as f64 / n as f64 - q).abs() < 0.015,
                "{counts:?} vs {probs:?}"
            );
        }
    }

    #[test]
    fn log_prob_and_entropy_gradient_match_finite_differences() {
        let alpha = vec![vec![0.3, -0.2, 0.9], vec![0.1, 0.5]];
        let p = CategoricalPolicy::with_alpha(vec![ops(3), ops(2)], alpha.clone()).unwrap();
        let arch = p.architecture(&[2, 0]);
        let g = p.grad_log_prob(&[2, 0]);
        let h_g = p.entropy_gradient();
        let eps = 1e-6;
        for e in 0..2 {
            for j in 0..alpha[e].len() {
                let shifted = |d: f64| {
                    let mut a = alpha.clone();
                    a[e][j] += d;
                    CategoricalPolicy::with_alpha(vec![ops(3), ops(2)], a).unwrap()
                };
                let (up, down) = (shifted(eps), shifted(-eps));
                let fd =
                    (up.log_prob(&arch).unwrap() - down.log_prob(&arch).unwrap()) / (2.0 * eps);
                assert!((fd - g[e][j]).abs() < 1e-7);
                let fd_h = (up.entropy() - down.entropy()) / (2.0 * eps);
                assert!((fd_h - h_g[e][j]).abs() < 1e-7);
            }
        }
        assert_eq!(p.most_likely(), p.architecture(&[2, 1]));
    }

    #[test]
    fn deserialisation_validates() {
        let bad = r#"{"active":[["none"]],"alpha":[["0.0","1.0"]]}"#;
        assert!(serde_json::from_str::<CategoricalPolicy>(bad).is_err());
        let empty = r#"{"active":[[]],"alpha":[[]]}"#;
        assert!(serde_json::from_str::<CategoricalPolicy>(empty).is_err());
        let ok = r#"{"active":[["none","skip_connect"]],"alpha":[["0.5",-0.5]]}"#;
        let p: CategoricalPolicy = serde_json::from_str(ok).unwrap();
        assert_eq!(p.alpha(), [vec![0.5, -0.5]]);
    }

    #[test]
    fn random_init_scale() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let p = CategoricalPolicy::random(vec![ops(8); 100], 1e-3, &mut rng).unwrap();
        let all: Vec<f64> = p.alpha().iter().flatten().copied().collect();
        let mean = all.iter().sum::<f64>() / all.len() as f64;
        let sd = (all.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / all.len() as f64).sqrt();
        assert!(mean.abs() < 2e-4 && (sd - 1e-3).abs() < 1e-4, "{mean} {sd}");
    }
}
