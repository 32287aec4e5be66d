//! The supernet's validation accuracy of a sample.

use super::{Direction, Objective, ObjectiveContext, ObjectiveError};
use crate::Architecture;

/// The supernet's validation accuracy (percent) of the sample, taken from
/// [`ObjectiveContext::accuracy`]; maximised.
///
/// Without a supernet or an evaluator that measures accuracy (a table search) there is no such score: the objective then
/// errors with [`ObjectiveError::NoSupernetAccuracy`], unless a fallback (typically a
/// table column, [`crate::objective::Tabular`]) was given with
/// [`ValidationAccuracy::with_fallback`].
///
/// ```
/// use tnd_nas::objective::{Objective, ObjectiveContext, ObjectiveError, ValidationAccuracy};
/// use tnd_nas::spaces::nb201::Nb201Space;
/// use tnd_nas::{Architecture, OpKind};
/// let space = Nb201Space::new();
/// let arch = Architecture::new(vec![OpKind::SkipConnect; 6]);
/// let mut acc = ValidationAccuracy::new();
/// assert_eq!(acc.evaluate(&arch, &ObjectiveContext::new(&space).with_accuracy(Some(87.5)))?, 87.5);
/// assert!(matches!(
///     acc.evaluate(&arch, &ObjectiveContext::new(&space)),
///     Err(ObjectiveError::NoSupernetAccuracy { .. })
/// ));
/// # Ok::<(), ObjectiveError>(())
/// ```
#[derive(Default)]
pub struct ValidationAccuracy {
    fallback: Option<Box<dyn Objective>>,
}

impl std::fmt::Debug for ValidationAccuracy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ValidationAccuracy")
            .field(
                "fallback",
                &self.fallback.as_ref().map(|o| o.name().to_string()),
            )
            .finish()
    }
}

impl ValidationAccuracy {
    /// The supernet score, with no fallback.
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses `fallback` (e.g. a benchmark-table accuracy column) when the context carries
    /// no supernet score.
    pub fn with_fallback(mut self, fallback: Box<dyn Objective>) -> Self {
        self.fallback = Some(fallback);
        self
    }
}

impl Objective for ValidationAccuracy {
    fn name(&self) -> &str {
        "accuracy"
    }

    fn direction(&self) -> Direction {
        Direction::Maximise
    }

    fn evaluate(
        &mut self,
        arch: &Architecture,
        ctx: &ObjectiveContext<'_>,
    ) -> Result<f64, ObjectiveError> {
        match (ctx.accuracy, self.fallback.as_mut()) {
            (Some(acc), _) => Ok(acc),
            (None, Some(fallback)) => fallback.evaluate(arch, ctx),
            (None, None) => Err(ObjectiveError::NoSupernetAccuracy {
                objective: self.name().to_string(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OpKind;
    use crate::spaces::nb201::Nb201Space;

    struct Constant(f64);
    impl Objective for Constant {
        fn name(&self) -> &str {
            "constant"
        }
        fn direction(&self) -> Direction {
            Direction::Maximise
        }
        fn evaluate(
            &mut self,
            _: &Architecture,
            _: &ObjectiveContext<'_>,
        ) -> Result<f64, ObjectiveError> {
            Ok(self.0)
        }
    }

    #[test]
    fn fallback_used_only_without_supernet_score() {
        let space = Nb201Space::new();
        let arch = Architecture::new(vec![OpKind::None; 6]);
        let mut acc = ValidationAccuracy::new().with_fallback(Box::new(Constant(42.0)));
        assert_eq!(
            acc.evaluate(&arch, &ObjectiveContext::new(&space)).unwrap(),
            42.0
        );
        let ctx = ObjectiveContext::new(&space).with_accuracy(Some(10.0));
        assert_eq!(acc.evaluate(&arch, &ctx).unwrap(), 10.0);
        let err = ValidationAccuracy::new()
            .evaluate(&arch, &ObjectiveContext::new(&space))
            .unwrap_err();
        assert!(err.to_string().contains("table"), "{err}");
    }
}
