//! Measured latency of an architecture's evaluation network.

use std::collections::HashMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Direction, Objective, ObjectiveContext, ObjectiveError};
use crate::Architecture;

/// Something that can run one forward pass of an architecture's network and time it.
///
/// The probe may build and keep the network between calls (the [`Latency`] objective
/// asks for all runs of one architecture in a row). Closures
/// `FnMut(&Architecture, &ObjectiveContext) -> Result<Duration, ObjectiveError>` are
/// probes too.
///
/// ```
/// use std::time::Duration;
/// use tnd_nas::objective::{LatencyConfig, LatencyProbe, Objective, ObjectiveContext, ObjectiveError};
/// use tnd_nas::spaces::nb201::Nb201Space;
/// use tnd_nas::{Architecture, OpKind};
///
/// /// A pretend device: 1 ms per 3x3 conv.
/// struct FakeDevice { calls: usize }
/// impl LatencyProbe for FakeDevice {
///     fn time_forward(&mut self, arch: &Architecture, _: &ObjectiveContext<'_>) -> Result<Duration, ObjectiveError> {
///         self.calls += 1;
///         let convs = arch.ops().iter().filter(|o| **o == OpKind::NorConv3x3).count() as u64;
///         Ok(Duration::from_millis(convs))
///     }
/// }
///
/// let space = Nb201Space::new();
/// let ctx = ObjectiveContext::new(&space);
/// let mut latency = LatencyConfig::new().with_warmup(2).with_runs(5).init(FakeDevice { calls: 0 })?;
/// let arch = Architecture::new(vec![OpKind::NorConv3x3; 6]);
/// assert_eq!(latency.evaluate(&arch, &ctx)?, 6.0); // milliseconds
/// assert_eq!(latency.evaluate(&arch, &ctx)?, 6.0); // cached: no new runs
/// assert_eq!(latency.probe().calls, 7);
/// # Ok::<(), ObjectiveError>(())
/// ```
pub trait LatencyProbe {
    /// Runs one forward pass of `arch`'s network and returns its wall time.
    ///
    /// # Errors
    /// [`ObjectiveError::Probe`] (or any other variant) when the network cannot be built or run.
    fn time_forward(
        &mut self,
        arch: &Architecture,
        ctx: &ObjectiveContext<'_>,
    ) -> Result<Duration, ObjectiveError>;
}

impl<F> LatencyProbe for F
where
    F: FnMut(&Architecture, &ObjectiveContext<'_>) -> Result<Duration, ObjectiveError>,
{
    fn time_forward(
        &mut self,
        arch: &Architecture,
        ctx: &ObjectiveContext<'_>,
    ) -> Result<Duration, ObjectiveError> {
        self(arch, ctx)
    }
}

/// Configuration of a [`Latency`] objective.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatencyConfig {
    /// Untimed forward passes before timing (default 3).
    pub warmup: usize,
    /// Timed forward passes; the median is reported (default 10).
    pub runs: usize,
    /// The objective's name (default `latency_ms`).
    pub name: String,
}

impl Default for LatencyConfig {
    fn default() -> Self {
        Self {
            warmup: 3,
            runs: 10,
            name: "latency_ms".into(),
        }
    }
}

impl LatencyConfig {
    /// The defaults: 3 warm-up runs, median of 10.
    pub fn new() -> Self {
        Self::default()
    }

    crate::setters! {
        /// Sets the number of warm-up runs.
        with_warmup => warmup: usize;
        /// Sets the number of timed runs.
        with_runs => runs: usize;
    }

    /// Sets the objective's name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Validates and builds the objective around `probe`.
    ///
    /// # Errors
    /// [`ObjectiveError::InvalidConfig`] for zero timed runs.
    pub fn init<P: LatencyProbe>(&self, probe: P) -> Result<Latency<P>, ObjectiveError> {
        if self.runs == 0 {
            return Err(ObjectiveError::InvalidConfig {
                what: "Latency runs".into(),
                reason: "at least one timed run is needed".into(),
            });
        }
        Ok(Latency {
            config: self.clone(),
            probe,
            cache: HashMap::new(),
        })
    }
}

/// Latency in milliseconds, minimised: `warmup` untimed forward passes, then the median
/// of `runs` timed ones, measured once per architecture and cached.
///
/// For a burn backend use [`crate::objective::ForwardProbe`]; see [`LatencyProbe`] for a
/// custom measurement.
#[derive(Debug, Clone)]
pub struct Latency<P> {
    config: LatencyConfig,
    probe: P,
    cache: HashMap<Architecture, f64>,
}

impl<P> Latency<P> {
    /// The probe.
    pub fn probe(&self) -> &P {
        &self.probe
    }

    /// The cached measurement of an architecture, if any.
    pub fn cached(&self, arch: &Architecture) -> Option<f64> {
        self.cache.get(arch).copied()
    }

    /// Forgets every cached measurement.
    pub fn clear_cache(&mut self) {
        self.cache.clear();
    }
}

impl<P: LatencyProbe> Objective for Latency<P> {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn direction(&self) -> Direction {
        Direction::Minimise
    }

    fn evaluate(
        &mut self,
        arch: &Architecture,
        ctx: &ObjectiveContext<'_>,
    ) -> Result<f64, ObjectiveError> {
        if let Some(&ms) = self.cache.get(arch) {
            return Ok(ms);
        }
        ctx.space.validate(arch)?;
        for _ in 0..self.config.warmup {
            self.probe.time_forward(arch, ctx)?;
        }
        let mut times = (0..self.config.runs)
            .map(|_| {
                self.probe
                    .time_forward(arch, ctx)
                    .map(|d| d.as_secs_f64() * 1e3)
            })
            .collect::<Result<Vec<f64>, _>>()?;
        let ms = median(&mut times);
        self.cache.insert(arch.clone(), ms);
        Ok(ms)
    }
}

/// The median of a non-empty list (mean of the middle two for an even length).
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        0.5 * (values[n / 2 - 1] + values[n / 2])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OpKind;
    use crate::spaces::nb201::Nb201Space;

    #[test]
    fn median_ignores_outliers_and_warmup() {
        let space = Nb201Space::new();
        let ctx = ObjectiveContext::new(&space);
        // First two calls (warm-up) are slow, then 5, 1, 3, 100, 2 ms: median 3.
        let mut script = vec![1000u64, 1000, 5, 1, 3, 100, 2].into_iter();
        let probe = move |_: &Architecture, _: &ObjectiveContext<'_>| {
            script
                .next()
                .map(Duration::from_millis)
                .ok_or_else(|| ObjectiveError::Probe("script exhausted".into()))
        };
        let mut lat = LatencyConfig::new()
            .with_warmup(2)
            .with_runs(5)
            .init(probe)
            .unwrap();
        let arch = Architecture::new(vec![OpKind::None; 6]);
        assert!((lat.evaluate(&arch, &ctx).unwrap() - 3.0).abs() < 1e-9);
        assert_eq!(lat.cached(&arch), Some(lat.evaluate(&arch, &ctx).unwrap()));
        let other = Architecture::new(vec![OpKind::SkipConnect; 6]);
        assert!(matches!(
            lat.evaluate(&other, &ctx),
            Err(ObjectiveError::Probe(_))
        ));
        assert!(
            LatencyConfig::new()
                .with_runs(0)
                .init(probe_never())
                .is_err()
        );
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
    }

    fn probe_never() -> impl LatencyProbe {
        |_: &Architecture, _: &ObjectiveContext<'_>| Err(ObjectiveError::Probe("never".into()))
    }
}
