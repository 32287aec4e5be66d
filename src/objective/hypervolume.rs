//! Pareto dominance and the hypervolume indicator.

use super::reward::check_count;
use super::{Direction, ObjectiveError};

/// Whether `a` Pareto-dominates `b`: at least as good in every objective and strictly
/// better in one, each objective judged by its direction.
///
/// ```
/// use tnd_nas::objective::{dominates, Direction};
/// let dirs = [Direction::Maximise, Direction::Minimise];
/// assert!(dominates(&[90.0, 1.0], &[89.0, 1.0], &dirs));
/// assert!(!dominates(&[90.0, 1.0], &[89.0, 0.5], &dirs));
/// assert!(!dominates(&[90.0, 1.0], &[90.0, 1.0], &dirs));
/// ```
pub fn dominates(a: &[f64], b: &[f64], directions: &[Direction]) -> bool {
    let mut strictly = false;
    for ((x, y), d) in a.iter().zip(b).zip(directions) {
        if d.better(*y, *x) {
            return false;
        }
        strictly |= d.better(*x, *y);
    }
    strictly
}

/// The hypervolume dominated by `points` and bounded by `reference`: the measure of the
/// set of objective vectors that some point dominates and that dominate the reference.
/// Points that do not strictly beat the reference in every objective add nothing.
///
/// Exact: a sweep in 2-D, and slicing (HSO) in higher dimensions, whose cost grows
/// like `n^(d-1)`; meant for the small fronts of a search.
///
/// ```
/// use tnd_nas::objective::{hypervolume, Direction};
/// let dirs = [Direction::Minimise, Direction::Minimise];
/// let pts = vec![vec![1.0, 3.0], vec![2.0, 2.0], vec![3.0, 1.0]];
/// assert_eq!(hypervolume(&pts, &dirs, &[4.0, 4.0])?, 6.0);
/// # Ok::<(), tnd_nas::objective::ObjectiveError>(())
/// ```
///
/// # Errors
/// [`ObjectiveError::CountMismatch`] when a point or the reference does not have one
/// value per direction; [`ObjectiveError::InvalidConfig`] for a non-finite reference.
pub fn hypervolume(
    points: &[Vec<f64>],
    directions: &[Direction],
    reference: &[f64],
) -> Result<f64, ObjectiveError> {
    check_count(
        "hypervolume reference point",
        directions.len(),
        reference.len(),
    )?;
    if let Some(r) = reference.iter().find(|r| !r.is_finite()) {
        return Err(ObjectiveError::InvalidConfig {
            what: "hypervolume reference point".into(),
            reason: format!("{r} is not finite"),
        });
    }
    // Everything minimised: negate maximised objectives.
    let flip = |v: &[f64]| -> Vec<f64> {
        v.iter()
            .zip(directions)
            .map(|(x, d)| -d.sign() * x)
            .collect()
    };
    let r = flip(reference);
    let mut pts = Vec::with_capacity(points.len());
    for p in points {
        check_count("hypervolume point", directions.len(), p.len())?;
        let q = flip(p);
        if q.iter().zip(&r).all(|(x, y)| x < y) {
            pts.push(q);
        }
    }
    Ok(hv_min(&mut pts, &r))
}

/// Hypervolume of minimisation points that all strictly beat `r`.
fn hv_min(pts: &mut [Vec<f64>], r: &[f64]) -> f64 {
    let d = r.len();
    if pts.is_empty() || d == 0 {
        return 0.0;
    }
    match d {
        1 => r[0] - pts.iter().map(|p| p[0]).fold(f64::INFINITY, f64::min),
        2 => {
            pts.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
            let mut area = 0.0;
            let mut floor = r[1];
            for p in pts.iter() {
                if p[1] < floor {
                    area += (r[0] - p[0]) * (floor - p[1]);
                    floor = p[1];
                }
            }
            area
        }
        _ => {
            let last = d - 1;
            pts.sort_by(|a, b| a[last].total_cmp(&b[last]));
            let mut volume = 0.0;
            for i in 0..pts.len() {
                let top = pts.get(i + 1).map_or(r[last], |p| p[last]);
                let depth = top - pts[i][last];
                if depth > 0.0 {
                    let mut slice: Vec<Vec<f64>> =
                        pts[..=i].iter().map(|p| p[..last].to_vec()).collect();
                    volume += depth * hv_min(&mut slice, &r[..last]);
                }
            }
            volume
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Inclusion-exclusion over all subsets: an independent (exponential) reference.
    fn hv_inclusion_exclusion(pts: &[Vec<f64>], r: &[f64]) -> f64 {
        let n = pts.len();
        let mut total = 0.0;
        for mask in 1u32..(1 << n) {
            let mut corner = vec![f64::NEG_INFINITY; r.len()];
            for (i, p) in pts.iter().enumerate() {
                if mask & (1 << i) != 0 {
                    for (c, x) in corner.iter_mut().zip(p) {
                        *c = c.max(*x);
                    }
                }
            }
            let vol: f64 = corner
                .iter()
                .zip(r)
                .map(|(c, r)| (r - c).max(0.0))
                .product();
            total += if mask.count_ones() % 2 == 1 {
                vol
            } else {
                -vol
            };
        }
        total
    }

    #[test]
    fn hand_computed_2d_and_3d() {
        let min2 = [Direction::Minimise; 2];
        assert_eq!(
            hypervolume(
                &[vec![1.0, 3.0], vec![2.0, 2.0], vec![3.0, 1.0]],
                &min2,
                &[4.0, 4.0]
            )
            .unwrap(),
            6.0
        );
        // A dominated point and one outside the reference box change nothing.
        let pts = vec![
            vec![1.0, 3.0],
            vec![2.0, 2.0],
            vec![3.0, 1.0],
            vec![3.0, 3.0],
            vec![5.0, 0.0],
        ];
        assert_eq!(hypervolume(&pts, &min2, &[4.0, 4.0]).unwrap(), 6.0);
        // Maximised accuracy, minimised cost: (90, 2) and (80, 1), reference (70, 3):
        // [70,90]x[2,3] = 20 plus [70,80]x[1,2] = 10.
        let dirs = [Direction::Maximise, Direction::Minimise];
        assert_eq!(
            hypervolume(&[vec![90.0, 2.0], vec![80.0, 1.0]], &dirs, &[70.0, 3.0]).unwrap(),
            30.0
        );
        // 3-D: boxes 2*2*1 and 1*1*2 overlapping in a unit cube: 4 + 2 - 1 = 5.
        let min3 = [Direction::Minimise; 3];
        assert_eq!(
            hypervolume(
                &[vec![1.0, 1.0, 2.0], vec![2.0, 2.0, 1.0]],
                &min3,
                &[3.0, 3.0, 3.0]
            )
            .unwrap(),
            5.0
        );
        assert_eq!(hypervolume(&[], &min3, &[3.0, 3.0, 3.0]).unwrap(), 0.0);
        assert!(hypervolume(&[vec![1.0]], &min3, &[3.0, 3.0, 3.0]).is_err());
        assert!(hypervolume(&[], &min2, &[f64::NAN, 1.0]).is_err());
    }

    #[test]
    fn dominance_cases() {
        let dirs = [Direction::Minimise, Direction::Maximise];
        assert!(dominates(&[1.0, 5.0], &[2.0, 5.0], &dirs));
        assert!(dominates(&[1.0, 6.0], &[2.0, 5.0], &dirs));
        assert!(!dominates(&[1.0, 4.0], &[2.0, 5.0], &dirs));
        assert!(!dominates(&[2.0, 5.0], &[1.0, 6.0], &dirs));
    }

    proptest! {
        #[test]
        fn slicing_matches_inclusion_exclusion(
            d in 2usize..5,
            raw in proptest::collection::vec(proptest::collection::vec(0u8..10, 4), 1..8),
        ) {
            let pts: Vec<Vec<f64>> = raw.iter().map(|p| p[..d].iter().map(|&x| f64::from(x)).collect()).collect();
            let r = vec![10.0; d];
            let dirs = vec![Direction::Minimise; d];
            let hv = hypervolume(&pts, &dirs, &r).unwrap();
            let reference = hv_inclusion_exclusion(&pts, &r);
            prop_assert!((hv - reference).abs() < 1e-6, "{hv} vs {reference}");
        }
    }
}
