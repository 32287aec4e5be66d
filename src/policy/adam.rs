//! Adam moments over alpha (PyTorch semantics, L2 weight decay in the gradient).

use serde::{Deserialize, Serialize};

use super::exact_float;

/// Adam's first and second moments and step count, shaped like alpha.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdamState {
    #[serde(with = "exact_float::nested")]
    m: Vec<Vec<f64>>,
    #[serde(with = "exact_float::nested")]
    v: Vec<Vec<f64>>,
    t: u64,
}

impl AdamState {
    /// Zero moments shaped like `params`.
    pub fn zeros_like(params: &[Vec<f64>]) -> Self {
        let z: Vec<Vec<f64>> = params.iter().map(|p| vec![0.0; p.len()]).collect();
        Self {
            m: z.clone(),
            v: z,
            t: 0,
        }
    }

    /// Steps taken.
    pub fn steps(&self) -> u64 {
        self.t
    }

    /// One Adam step on `params` with gradient `grad` (of a loss to minimise):
    /// `d = grad + wd * p; m = b1 m + (1-b1) d; v = b2 v + (1-b2) d^2;
    /// p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)`.
    pub(crate) fn step(
        &mut self,
        params: &mut [Vec<f64>],
        grad: &[Vec<f64>],
        lr: f64,
        (beta1, beta2): (f64, f64),
        eps: f64,
        weight_decay: f64,
    ) {
        self.t += 1;
        let t = i32::try_from(self.t).unwrap_or(i32::MAX);
        let bc1 = 1.0 - beta1.powi(t);
        let bc2 = 1.0 - beta2.powi(t);
        for (((p, g), m), v) in params
            .iter_mut()
            .zip(grad)
            .zip(&mut self.m)
            .zip(&mut self.v)
        {
            for (((p, g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
                let d = g + weight_decay * *p;
                *m = beta1 * *m + (1.0 - beta1) * d;
                *v = beta2 * *v + (1.0 - beta2) * d * d;
                let denom = (*v / bc2).sqrt() + eps;
                *p -= lr * (*m / bc1) / denom;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_hand_computed_pytorch_steps() {
        // PyTorch: torch.optim.Adam([p], lr=0.1, betas=(0.5, 0.999), weight_decay=0.01)
        // with p = 1.0 and grad 2.0, then 2.0 again.
        let mut p = vec![vec![1.0]];
        let mut adam = AdamState::zeros_like(&p);
        adam.step(&mut p, &[vec![2.0]], 0.1, (0.5, 0.999), 1e-8, 0.01);
        // d = 2.01, m̂ = d, v̂ = d², step = lr * d / (|d| + eps) ≈ 0.1.
        assert!((p[0][0] - (1.0 - 0.1 * 2.01 / (2.01 + 1e-8))).abs() < 1e-12);
        let p1 = p[0][0];
        adam.step(&mut p, &[vec![2.0]], 0.1, (0.5, 0.999), 1e-8, 0.01);
        let d1 = 2.01;
        let d2 = 2.0 + 0.01 * p1;
        let m = 0.5 * (0.5 * d1) + 0.5 * d2;
        let v = 0.999 * (0.001 * d1 * d1) + 0.001 * d2 * d2;
        let expected =
            p1 - 0.1 * (m / (1.0 - 0.25)) / ((v / (1.0 - 0.999f64.powi(2))).sqrt() + 1e-8);
        assert!((p[0][0] - expected).abs() < 1e-12);
        assert_eq!(adam.steps(), 2);
    }
}
