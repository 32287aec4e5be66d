//! Scoring a fixed list of architectures with a search's own evaluator, at the end of
//! its last stage.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::scoring::{Advance, Clock, Evaluator, Progress, ScoringError, StageReport, StageStart};
use crate::{Architecture, OpKind};

/// What a [`StageEndProbe`] measured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProbeScores {
    /// One score per probed architecture, in order (`None` for one whose ops the last
    /// stage no longer holds, or that the evaluator could not score).
    pub scores: Vec<Option<f64>>,
    /// Seconds spent scoring them.
    pub seconds: f64,
}

/// Where a [`StageEndProbe`] leaves its scores; read it after the search ran.
pub type ProbeHandle = Arc<Mutex<Option<ProbeScores>>>;

/// An [`Evaluator`] that passes everything to the evaluator it wraps and, when the
/// last stage ends (before a supernet is dropped), scores a list of architectures with
/// it, `chunk` at a time through [`Evaluator::evaluate`], exactly as the search scored
/// its own samples (the same validation batches, BN statistics and scoring set).
///
/// ```
/// use tnd_nas::scoring::FnEvaluator;
/// use tnd_nas::fidelity::StageEndProbe;
/// use tnd_nas::objective::{Objective, ValidationAccuracy, WeightedSum};
/// use tnd_nas::schedule::{ShrinkScheduleConfig, StageConfig};
/// use tnd_nas::search::Search;
/// use tnd_nas::spaces::nb201::Nb201Space;
/// use tnd_nas::strategy::Random;
/// use tnd_nas::{Architecture, OpKind, SearchSpace};
///
/// let space = Nb201Space::new();
/// let probed = vec![
///     space.parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|")?,
///     space.parse("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|")?,
/// ];
/// // A toy evaluator: the number of 3x3 convolutions.
/// let schedule = ShrinkScheduleConfig::new(vec![StageConfig::new(1, vec![0])]);
/// let inner = FnEvaluator::new(8, &schedule, |a: &Architecture| {
///     Ok(Some(a.ops().iter().filter(|&&o| o == OpKind::NorConv3x3).count() as f64))
/// });
/// let (probe, handle) = StageEndProbe::new(Box::new(inner), probed, 4);
/// let objectives: Vec<Box<dyn Objective>> = vec![Box::new(ValidationAccuracy::new())];
/// let mut search = Search::from_parts(
///     space.clone(), &schedule, Box::new(Random::new(space.all_candidates(), 0, 4)),
///     Box::new(probe), objectives, Box::new(WeightedSum::new(vec![1.0])?))?;
/// search.run(&mut [])?;
/// let probed = handle.lock().unwrap().clone().unwrap();
/// assert_eq!(probed.scores, [Some(6.0), Some(0.0)]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct StageEndProbe {
    inner: Box<dyn Evaluator>,
    archs: Vec<Architecture>,
    chunk: usize,
    stage: usize,
    last: bool,
    active: Vec<Vec<OpKind>>,
    out: ProbeHandle,
}

impl std::fmt::Debug for StageEndProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StageEndProbe")
            .field("archs", &self.archs.len())
            .field("chunk", &self.chunk)
            .finish_non_exhaustive()
    }
}

impl StageEndProbe {
    /// Wraps `inner`; `archs` are scored `chunk` at a time (at least one) when the last
    /// stage ends. The handle holds the scores afterwards.
    pub fn new(
        inner: Box<dyn Evaluator>,
        archs: Vec<Architecture>,
        chunk: usize,
    ) -> (Self, ProbeHandle) {
        let out: ProbeHandle = Arc::default();
        (
            Self {
                inner,
                archs,
                chunk: chunk.max(1),
                stage: 0,
                last: false,
                active: Vec::new(),
                out: Arc::clone(&out),
            },
            out,
        )
    }

    fn note_stage(&mut self, start: &StageStart<'_>) {
        self.stage = start.stage;
        self.last = start.stage + 1 == start.stages;
        self.active = start.active.to_vec();
    }

    fn probe(&mut self) -> Result<(), ScoringError> {
        let started = Instant::now();
        let fits = |a: &Architecture| {
            a.ops().len() == self.active.len()
                && a.ops()
                    .iter()
                    .zip(&self.active)
                    .all(|(op, ops)| ops.contains(op))
        };
        let mut scores = vec![None; self.archs.len()];
        let scorable: Vec<usize> = (0..self.archs.len())
            .filter(|&i| fits(&self.archs[i]))
            .collect();
        for chunk in scorable.chunks(self.chunk) {
            let batch: Vec<Architecture> = chunk.iter().map(|&i| self.archs[i].clone()).collect();
            let got = self.inner.evaluate(&batch, &self.active)?;
            for (&i, s) in chunk.iter().zip(got) {
                scores[i] = s;
            }
        }
        let result = ProbeScores {
            scores,
            seconds: started.elapsed().as_secs_f64(),
        };
        if let Ok(mut out) = self.out.lock() {
            *out = Some(result);
        }
        Ok(())
    }
}

impl Evaluator for StageEndProbe {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn prepare_stage(&mut self, start: &StageStart<'_>) -> Result<(), ScoringError> {
        self.note_stage(start);
        self.inner.prepare_stage(start)
    }
    fn begin_stage(&mut self, start: &StageStart<'_>) -> Result<StageReport, ScoringError> {
        self.note_stage(start);
        self.inner.begin_stage(start)
    }
    fn planned_batches(&self, batch_size: usize) -> Option<u64> {
        self.inner.planned_batches(batch_size)
    }
    fn exact(&self) -> bool {
        self.inner.exact()
    }
    fn refund(&mut self, n: usize) {
        self.inner.refund(n);
    }
    fn advance(&mut self, cx: &Advance<'_>) -> Result<Progress, ScoringError> {
        self.inner.advance(cx)
    }
    fn interrupt(&mut self) {
        self.inner.interrupt();
    }
    fn evaluate(
        &mut self,
        batch: &[Architecture],
        active: &[Vec<OpKind>],
    ) -> Result<Vec<Option<f64>>, ScoringError> {
        self.inner.evaluate(batch, active)
    }
    fn final_score(
        &mut self,
        arch: &Architecture,
        active: &[Vec<OpKind>],
    ) -> Result<Option<f64>, ScoringError> {
        self.inner.final_score(arch, active)
    }
    fn end_stage(&mut self) -> Result<(), ScoringError> {
        if self.last {
            self.probe()?;
        }
        self.inner.end_stage()
    }
    fn clock(&self) -> Clock {
        self.inner.clock()
    }
    fn checkpointable(&self) -> bool {
        self.inner.checkpointable()
    }
    fn save(&self) -> Result<serde_json::Value, ScoringError> {
        self.inner.save()
    }
    fn restore(&mut self, state: serde_json::Value) -> Result<(), ScoringError> {
        self.inner.restore(state)
    }
    fn write_files(&self, dir: &Path) -> Result<(), ScoringError> {
        self.inner.write_files(dir)
    }
    fn read_files(&mut self, dir: &Path) -> Result<(), ScoringError> {
        self.inner.read_files(dir)
    }
}
