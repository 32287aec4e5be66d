//! The REINFORCE gradient against finite differences of the exact expected reward.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tnd_nas::policy::CategoricalPolicy;
use tnd_nas::{Architecture, OpKind};

/// 3 edges with 2, 3 and 2 ops.
fn active() -> Vec<Vec<OpKind>> {
    vec![
        vec![OpKind::None, OpKind::SkipConnect],
        vec![OpKind::NorConv1x1, OpKind::NorConv3x3, OpKind::AvgPool3x3],
        vec![OpKind::SkipConnect, OpKind::NorConv3x3],
    ]
}

/// Every architecture as op indices.
fn all_indices() -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    for a in 0..2 {
        for b in 0..3 {
            for c in 0..2 {
                out.push(vec![a, b, c]);
            }
        }
    }
    out
}

/// An arbitrary, non-additive reward.
fn reward(idx: &[usize]) -> f64 {
    let x = (idx[0] * 6 + idx[1] * 2 + idx[2]) as f64;
    (x * 1.7).sin() * 3.0 + if idx[0] == 1 && idx[2] == 1 { 2.5 } else { 0.0 }
}

fn prob(policy: &CategoricalPolicy, idx: &[usize]) -> f64 {
    let arch: Architecture = policy.architecture(idx);
    policy.log_prob(&arch).unwrap().exp()
}

fn expected_reward(policy: &CategoricalPolicy) -> f64 {
    all_indices()
        .iter()
        .map(|i| prob(policy, i) * reward(i))
        .sum()
}

fn random_alpha(rng: &mut ChaCha8Rng) -> Vec<Vec<f64>> {
    active()
        .iter()
        .map(|ops| ops.iter().map(|_| rng.random_range(-1.5..1.5)).collect())
        .collect()
}

#[test]
fn exact_policy_gradient_equals_finite_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    for _ in 0..5 {
        let alpha = random_alpha(&mut rng);
        let policy = CategoricalPolicy::with_alpha(active(), alpha.clone()).unwrap();
        let samples = all_indices();
        // sum_a p(a) R(a) grad log p(a), baseline 0.
        let coefficients: Vec<f64> = samples
            .iter()
            .map(|i| prob(&policy, i) * reward(i))
            .collect();
        let g = policy.score_gradient(&samples, &coefficients);
        let eps = 1e-6;
        for e in 0..alpha.len() {
            for j in 0..alpha[e].len() {
                let at = |d: f64| {
                    let mut a = alpha.clone();
                    a[e][j] += d;
                    expected_reward(&CategoricalPolicy::with_alpha(active(), a).unwrap())
                };
                let fd = (at(eps) - at(-eps)) / (2.0 * eps);
                assert!(
                    (fd - g[e][j]).abs() < 1e-7,
                    "edge {e} op {j}: exact {} vs fd {fd}",
                    g[e][j]
                );
            }
        }
    }
}

#[test]
fn sampled_estimate_is_unbiased_with_and_without_baseline() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let policy = CategoricalPolicy::with_alpha(active(), random_alpha(&mut rng)).unwrap();
    let samples = all_indices();
    let exact = policy.score_gradient(
        &samples,
        &samples
            .iter()
            .map(|i| prob(&policy, i) * reward(i))
            .collect::<Vec<_>>(),
    );
    for baseline in [0.0, 1.3] {
        let n = 200_000;
        let drawn: Vec<Vec<usize>> = (0..n).map(|_| policy.sample_indices(&mut rng)).collect();
        let coefficients: Vec<f64> = drawn
            .iter()
            .map(|i| (reward(i) - baseline) / n as f64)
            .collect();
        let estimate = policy.score_gradient(&drawn, &coefficients);
        for (ge, ee) in exact.iter().zip(&estimate) {
            for (x, y) in ge.iter().zip(ee) {
                assert!(
                    (x - y).abs() < 0.03,
                    "baseline {baseline}: exact {x} vs sampled {y}"
                );
            }
        }
    }
}
