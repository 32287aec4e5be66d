//! Rank agreement between an evaluator's scores and a ground truth.

use serde::{Deserialize, Serialize};

use super::FidelityError;

/// Kendall's tau-b of two equally long sequences (ties in either count as neither
/// concordant nor discordant; tau-b corrects the denominator for them). `None` when
/// fewer than two pairs can be ranked (constant input).
///
/// ```
/// use tnd_nas::fidelity::kendall_tau;
/// assert_eq!(kendall_tau(&[1.0, 2.0, 3.0], &[10.0, 20.0, 30.0]), Some(1.0));
/// assert_eq!(kendall_tau(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]), Some(-1.0));
/// // scipy.stats.kendalltau([1, 2, 3, 4], [1, 3, 2, 4]) = 0.666...
/// assert!((kendall_tau(&[1.0, 2.0, 3.0, 4.0], &[1.0, 3.0, 2.0, 4.0]).unwrap() - 2.0 / 3.0).abs() < 1e-12);
/// assert_eq!(kendall_tau(&[1.0, 1.0], &[1.0, 2.0]), None);
/// ```
pub fn kendall_tau(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len().min(y.len());
    let (mut concordant, mut discordant, mut tied_x, mut tied_y) = (0i64, 0i64, 0i64, 0i64);
    for i in 0..n {
        for j in i + 1..n {
            let dx = x[i] - x[j];
            let dy = y[i] - y[j];
            match (dx == 0.0, dy == 0.0) {
                (true, true) => {}
                (true, false) => tied_x += 1,
                (false, true) => tied_y += 1,
                (false, false) => {
                    if (dx > 0.0) == (dy > 0.0) {
                        concordant += 1;
                    } else {
                        discordant += 1;
                    }
                }
            }
        }
    }
    let untied_x = (concordant + discordant + tied_y) as f64;
    let untied_y = (concordant + discordant + tied_x) as f64;
    let denominator = (untied_x * untied_y).sqrt();
    (denominator > 0.0).then(|| (concordant - discordant) as f64 / denominator)
}

/// Ranks from 1, ties sharing their average rank.
fn average_ranks(v: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut ranks = vec![0.0; v.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && v[order[j + 1]] == v[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            ranks[k] = rank;
        }
        i = j + 1;
    }
    ranks
}

/// The mean of each score's average ranks (from 1, ties sharing their rank): an
/// equal-weight combination of scores on different scales, with nothing fitted.
/// Larger is better when every input is larger-is-better. Inputs longer than the
/// shortest are cut to it, as the other measures here do.
///
/// ```
/// use tnd_nas::fidelity::rank_mean;
/// // ranks [1, 2, 3] and [2, 3, 1]
/// assert_eq!(rank_mean(&[&[0.1, 0.5, 0.9], &[20.0, 30.0, 10.0]]), vec![1.5, 2.5, 2.0]);
/// ```
pub fn rank_mean(scores: &[&[f64]]) -> Vec<f64> {
    let n = scores.iter().map(|s| s.len()).min().unwrap_or(0);
    let mut mean = vec![0.0; n];
    for s in scores {
        for (m, r) in mean.iter_mut().zip(average_ranks(&s[..n])) {
            *m += r / scores.len() as f64;
        }
    }
    mean
}

/// Spearman's rho: the Pearson correlation of the average ranks. `None` for constant
/// input or fewer than two values.
///
/// ```
/// use tnd_nas::fidelity::spearman_rho;
/// assert_eq!(spearman_rho(&[1.0, 2.0, 3.0], &[1.0, 4.0, 9.0]), Some(1.0));
/// // scipy.stats.spearmanr([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) = 0.8
/// assert!((spearman_rho(&[1.0, 2.0, 3.0, 4.0, 5.0], &[2.0, 1.0, 4.0, 3.0, 5.0]).unwrap() - 0.8).abs() < 1e-12);
/// ```
pub fn spearman_rho(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len().min(y.len());
    if n < 2 {
        return None;
    }
    let (rx, ry) = (average_ranks(&x[..n]), average_ranks(&y[..n]));
    let mean = (n as f64 + 1.0) / 2.0;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in rx.iter().zip(&ry) {
        sxy += (a - mean) * (b - mean);
        sxx += (a - mean) * (a - mean);
        syy += (b - mean) * (b - mean);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

/// The indices of the `k` largest values (ties broken by the lower index).
fn top_k(v: &[f64], k: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&a, &b| v[b].total_cmp(&v[a]).then(a.cmp(&b)));
    order.truncate(k);
    order
}

/// The fraction of the `ceil(fraction * n)` best architectures by `truth` that are also
/// among the best as many by `score` (both larger-is-better).
///
/// ```
/// use tnd_nas::fidelity::precision_at_top;
/// let truth = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
/// let score = [10.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 1.0, 9.0];
/// assert_eq!(precision_at_top(&truth, &score, 0.2), 0.5); // top 2: {9, 8} vs {0, 9}
/// ```
pub fn precision_at_top(truth: &[f64], score: &[f64], fraction: f64) -> f64 {
    let n = truth.len().min(score.len());
    let k = ((fraction * n as f64).ceil() as usize).clamp(1, n.max(1));
    if n == 0 {
        return 0.0;
    }
    let best = top_k(&truth[..n], k);
    let picked = top_k(&score[..n], k);
    best.iter().filter(|i| picked.contains(i)).count() as f64 / k as f64
}

/// Kendall's tau among the architectures whose truth is at least the median: where a
/// search decides. Broken cells (no path from input to output, pools only) are easy to
/// tell apart and make every evaluator look good over all cells.
///
/// ```
/// use tnd_nas::fidelity::tau_within_better;
/// let truth = [10.0, 11.0, 90.0, 91.0, 92.0, 93.0];
/// let score = [1.0, 2.0, 6.0, 5.0, 4.0, 3.0];
/// assert_eq!(tau_within_better(&truth, &score), Some(-1.0)); // the better three reversed
/// ```
pub fn tau_within_better(truth: &[f64], score: &[f64]) -> Option<f64> {
    let n = truth.len().min(score.len());
    let mut sorted = truth[..n].to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = *sorted.get(n / 2)?;
    let (t, s): (Vec<f64>, Vec<f64>) = (0..n)
        .filter(|&i| truth[i] >= median)
        .map(|i| (truth[i], score[i]))
        .unzip();
    kendall_tau(&t, &s)
}

/// Every statistic of one evaluator against a ground truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankReport {
    /// Architectures compared.
    pub cells: usize,
    /// Kendall tau-b over all of them.
    pub kendall_tau: Option<f64>,
    /// Spearman rho over all of them.
    pub spearman_rho: Option<f64>,
    /// Precision of the top 10%.
    pub top10_precision: f64,
    /// Kendall tau within the better half (by truth).
    pub tau_better_half: Option<f64>,
}

/// All statistics of `score` against `truth` (both larger-is-better, in the same
/// order).
///
/// # Errors
/// [`FidelityError::Mismatch`] for sequences of different lengths or a non-finite value.
pub fn rank_report(truth: &[f64], score: &[f64]) -> Result<RankReport, FidelityError> {
    if truth.len() != score.len() {
        return Err(FidelityError::Mismatch(format!(
            "{} truths but {} scores",
            truth.len(),
            score.len()
        )));
    }
    if let Some(i) = (0..truth.len()).find(|&i| !truth[i].is_finite() || !score[i].is_finite()) {
        return Err(FidelityError::Mismatch(format!(
            "architecture {i}: truth {} and score {} must both be finite",
            truth[i], score[i]
        )));
    }
    Ok(RankReport {
        cells: truth.len(),
        kendall_tau: kendall_tau(truth, score),
        spearman_rho: spearman_rho(truth, score),
        top10_precision: precision_at_top(truth, score, 0.1),
        tau_better_half: tau_within_better(truth, score),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tau_b_with_ties_matches_scipy() {
        // scipy.stats.kendalltau([1, 2, 2, 3, 4], [1, 3, 2, 2, 5]).statistic
        // = 0.6666666666666666 (scipy 1.x, tau-b)
        let t = kendall_tau(&[1.0, 2.0, 2.0, 3.0, 4.0], &[1.0, 3.0, 2.0, 2.0, 5.0]).unwrap();
        assert!((t - 2.0 / 3.0).abs() < 1e-12, "{t}");
    }

    #[test]
    fn spearman_with_ties_matches_scipy() {
        // scipy.stats.spearmanr([1, 2, 2, 3], [1, 2, 3, 4]).statistic = 0.9486832980505138
        let r = spearman_rho(&[1.0, 2.0, 2.0, 3.0], &[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert!((r - 0.948_683_298_050_513_8).abs() < 1e-12, "{r}");
    }

    #[test]
    fn report_refuses_unequal_or_non_finite_input() {
        assert!(rank_report(&[1.0], &[1.0, 2.0]).is_err());
        let e = rank_report(&[1.0, f64::NAN], &[1.0, 2.0]).unwrap_err();
        assert!(e.to_string().contains("architecture 1"), "{e}");
    }
}
