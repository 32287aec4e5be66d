//! Every scored sample, and the non-dominated front among them.

use serde::{Deserialize, Serialize};

use super::reward::check_count;
use super::{Direction, ObjectiveError, dominates, hypervolume};
use crate::Architecture;

/// One scored sample: an architecture, its objective values, and when it was scored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoredSample {
    /// The architecture.
    pub arch: Architecture,
    /// Its objective values, in the archive's objective order.
    pub values: Vec<f64>,
    /// The shrinking stage it was scored in.
    pub stage: usize,
    /// The search step (update index) it was scored at.
    pub step: u64,
}

/// Keeps every scored sample (repeats included, unless the evaluator is exact) and maintains the non-dominated front,
/// judged by each objective's direction. An architecture already on the front with the
/// same values is not added to the front twice.
///
/// ```
/// use tnd_nas::objective::{Direction, ParetoArchive, ScoredSample};
/// use tnd_nas::{Architecture, OpKind};
/// let mut archive = ParetoArchive::new(
///     vec!["acc".into(), "params".into()],
///     vec![Direction::Maximise, Direction::Minimise],
/// )?;
/// let arch = |op| Architecture::new(vec![op; 6]);
/// for (op, acc, params) in [(OpKind::NorConv3x3, 93.0, 1.5), (OpKind::NorConv1x1, 90.0, 0.4), (OpKind::AvgPool3x3, 80.0, 0.5)] {
///     archive.push(ScoredSample { arch: arch(op), values: vec![acc, params], stage: 0, step: 0 })?;
/// }
/// assert_eq!(archive.len(), 3);
/// assert_eq!(archive.front().len(), 2); // the pooling cell is dominated
/// // Reference (70, 2): [70,93]x[1.5,2] + [70,90]x[0.4,1.5] = 11.5 + 22.
/// assert!((archive.hypervolume(&[70.0, 2.0])? - 33.5).abs() < 1e-9);
/// # Ok::<(), tnd_nas::objective::ObjectiveError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParetoArchive {
    names: Vec<String>,
    directions: Vec<Direction>,
    samples: Vec<ScoredSample>,
    front: Vec<usize>,
}

impl ParetoArchive {
    /// An empty archive for objectives with these names and directions.
    ///
    /// # Errors
    /// [`ObjectiveError::CountMismatch`] when the lists differ in length;
    /// [`ObjectiveError::InvalidConfig`] for no objectives.
    pub fn new(names: Vec<String>, directions: Vec<Direction>) -> Result<Self, ObjectiveError> {
        check_count("objective directions", names.len(), directions.len())?;
        if names.is_empty() {
            return Err(ObjectiveError::InvalidConfig {
                what: "ParetoArchive".into(),
                reason: "needs at least one objective".into(),
            });
        }
        Ok(Self {
            names,
            directions,
            samples: Vec::new(),
            front: Vec::new(),
        })
    }

    /// Adds a sample; returns whether it joined the front.
    ///
    /// # Errors
    /// [`ObjectiveError::CountMismatch`] for the wrong number of values,
    /// [`ObjectiveError::NonFinite`] for a value that is not finite.
    pub fn push(&mut self, sample: ScoredSample) -> Result<bool, ObjectiveError> {
        check_count(
            "objective values",
            self.directions.len(),
            sample.values.len(),
        )?;
        if let Some((i, v)) = sample
            .values
            .iter()
            .enumerate()
            .find(|(_, v)| !v.is_finite())
        {
            return Err(ObjectiveError::NonFinite {
                objective: self.names[i].clone(),
                value: *v,
            });
        }
        let joins = !self.front.iter().any(|&f| {
            let other = &self.samples[f];
            dominates(&other.values, &sample.values, &self.directions)
                || (other.values == sample.values && other.arch == sample.arch)
        });
        if joins {
            let (samples, dirs) = (&self.samples, &self.directions);
            self.front
                .retain(|&f| !dominates(&sample.values, &samples[f].values, dirs));
            self.front.push(self.samples.len());
        }
        self.samples.push(sample);
        Ok(joins)
    }

    /// The objective names.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The objective directions.
    pub fn directions(&self) -> &[Direction] {
        &self.directions
    }

    /// Every sample, in the order scored.
    pub fn samples(&self) -> &[ScoredSample] {
        &self.samples
    }

    /// Number of samples (repeats included).
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Whether nothing was scored yet.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Indices into [`ParetoArchive::samples`] of the non-dominated samples, in the order
    /// they were scored.
    pub fn front_indices(&self) -> Vec<usize> {
        let mut f = self.front.clone();
        f.sort_unstable();
        f
    }

    /// The non-dominated samples, in the order they were scored.
    pub fn front(&self) -> Vec<&ScoredSample> {
        self.front_indices()
            .into_iter()
            .map(|i| &self.samples[i])
            .collect()
    }

    /// The hypervolume of the front with respect to `reference` (one value per
    /// objective, in the objectives' units; see [`hypervolume`]).
    ///
    /// # Errors
    /// As [`hypervolume`].
    pub fn hypervolume(&self, reference: &[f64]) -> Result<f64, ObjectiveError> {
        let pts: Vec<Vec<f64>> = self
            .front
            .iter()
            .map(|&i| self.samples[i].values.clone())
            .collect();
        hypervolume(&pts, &self.directions, reference)
    }

    /// The worst value of every objective over all samples (`None` when empty): a
    /// reference point for [`ParetoArchive::hypervolume`] that every sample reaches.
    pub fn nadir(&self) -> Option<Vec<f64>> {
        let first = self.samples.first()?;
        let mut worst = first.values.clone();
        for s in &self.samples[1..] {
            for ((w, v), d) in worst.iter_mut().zip(&s.values).zip(&self.directions) {
                if d.better(*w, *v) {
                    *w = *v;
                }
            }
        }
        Some(worst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OpKind;

    fn sample(op: OpKind, values: Vec<f64>) -> ScoredSample {
        ScoredSample {
            arch: Architecture::new(vec![op; 2]),
            values,
            stage: 0,
            step: 0,
        }
    }

    #[test]
    fn front_updates_and_repeats() {
        let mut a =
            ParetoArchive::new(vec!["x".into(), "y".into()], vec![Direction::Minimise; 2]).unwrap();
        assert!(a.push(sample(OpKind::None, vec![2.0, 2.0])).unwrap());
        assert!(!a.push(sample(OpKind::None, vec![2.0, 2.0])).unwrap()); // repeat
        assert!(a.push(sample(OpKind::SkipConnect, vec![2.0, 2.0])).unwrap()); // same values, other arch
        assert!(!a.push(sample(OpKind::NorConv1x1, vec![3.0, 3.0])).unwrap()); // dominated
        assert!(a.push(sample(OpKind::NorConv3x3, vec![1.0, 2.0])).unwrap()); // dominates both
        assert!(a.push(sample(OpKind::AvgPool3x3, vec![3.0, 0.5])).unwrap());
        assert_eq!(a.len(), 6);
        assert_eq!(a.front_indices(), vec![4, 5]);
        // Reference (4, 4): [1,4]x[2,4] = 6, plus [3,4]x[0.5,2] = 1.5.
        assert_eq!(a.hypervolume(&[4.0, 4.0]).unwrap(), 7.5);
        assert!(a.push(sample(OpKind::None, vec![1.0])).is_err());
        assert!(a.push(sample(OpKind::None, vec![1.0, f64::NAN])).is_err());
        let json = serde_json::to_string(&a).unwrap();
        let back: ParetoArchive = serde_json::from_str(&json).unwrap();
        assert_eq!(back, a);
    }

    #[test]
    fn nadir_is_the_worst_value_per_direction() {
        let mut a = ParetoArchive::new(
            vec!["acc".into(), "params".into()],
            vec![Direction::Maximise, Direction::Minimise],
        )
        .unwrap();
        assert_eq!(a.nadir(), None);
        a.push(sample(OpKind::None, vec![90.0, 1.0])).unwrap();
        a.push(sample(OpKind::SkipConnect, vec![80.0, 0.5]))
            .unwrap();
        a.push(sample(OpKind::NorConv3x3, vec![85.0, 2.0])).unwrap();
        assert_eq!(a.nadir(), Some(vec![80.0, 2.0]));
        // Front (90, 1) and (80, 0.5) against (80, 2): 10 x 1 + 0 = 10.
        assert_eq!(a.hypervolume(&[80.0, 2.0]).unwrap(), 10.0);
    }
}
