//! Observers: progress bars and logs are not the search's business.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{Control, SearchEvent, StepRecord};
use crate::error::SearchError;

/// Watches a search. The library never prints; observers do.
///
/// ```
/// use tnd_nas::search::{Control, SearchEvent, SearchObserver};
///
/// /// Stops the search after its first epoch.
/// struct OneEpoch;
/// impl SearchObserver for OneEpoch {
///     fn observe(&mut self, event: &SearchEvent) -> Control {
///         match event {
///             SearchEvent::EpochEnd { .. } => Control::Stop,
///             _ => Control::Continue,
///         }
///     }
/// }
/// assert_eq!(OneEpoch.observe(&SearchEvent::Checkpoint { path: "x".into() }), Control::Continue);
/// ```
pub trait SearchObserver {
    /// Called for every event; [`Control::Stop`] ends the search at the next epoch
    /// boundary with [`SearchError::Stopped`].
    fn observe(&mut self, event: &SearchEvent) -> Control;
}

/// Writes every event as one JSON object per line (`kind` names the event).
///
/// Step records carry `stage, epoch, step, loss, train_acc, lr, step_ms,
/// images_per_sec`; alpha records `reward_mean, baseline, entropy, probabilities`.
#[derive(Debug)]
pub struct JsonlLog {
    path: PathBuf,
    out: BufWriter<File>,
    error: Option<String>,
}

impl JsonlLog {
    /// Appends to `path` (created if missing), so that a resumed search continues its log.
    ///
    /// # Errors
    /// [`SearchError::Io`] if the file cannot be opened.
    pub fn append(path: impl AsRef<Path>) -> Result<Self, SearchError> {
        let path = path.as_ref().to_path_buf();
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| SearchError::io(&path, e))?;
        Ok(Self {
            path,
            out: BufWriter::new(file),
            error: None,
        })
    }

    /// The first write error, if any (an observer cannot fail the search).
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// The log file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl SearchObserver for JsonlLog {
    fn observe(&mut self, event: &SearchEvent) -> Control {
        let line = serde_json::to_string(event).map_err(|e| e.to_string());
        let written = line.and_then(|l| {
            writeln!(self.out, "{l}")
                .and_then(|_| self.out.flush())
                .map_err(|e| e.to_string())
        });
        if let Err(e) = written
            && self.error.is_none()
        {
            self.error = Some(format!("{}: {e}", self.path.display()));
        }
        Control::Continue
    }
}

/// A one-line progress display on stderr: stage, epoch, step, loss, accuracy,
/// images/s and ETA of the stage.
#[derive(Debug)]
pub struct ProgressBar {
    stage: usize,
    stages: usize,
    epochs: usize,
    steps_per_epoch: usize,
    stage_started: Instant,
    steps_done: usize,
    steps_at_start: usize,
    last_draw: Option<Instant>,
}

impl Default for ProgressBar {
    fn default() -> Self {
        Self::new()
    }
}

impl ProgressBar {
    /// A progress bar.
    pub fn new() -> Self {
        Self {
            stage: 0,
            stages: 0,
            epochs: 0,
            steps_per_epoch: 0,
            stage_started: Instant::now(),
            steps_done: 0,
            steps_at_start: 0,
            last_draw: None,
        }
    }
}

impl ProgressBar {
    /// Redraws the progress line (at most five times a second).
    fn draw_step(&mut self, s: &StepRecord) {
        self.steps_done = s.epoch * self.steps_per_epoch + s.step + 1;
        let now = Instant::now();
        if self
            .last_draw
            .is_some_and(|t| now.duration_since(t).as_millis() < 200)
        {
            return;
        }
        self.last_draw = Some(now);
        let total = self.epochs * self.steps_per_epoch;
        let done = self.steps_done.saturating_sub(self.steps_at_start).max(1);
        let left = total.saturating_sub(self.steps_done);
        let eta = self.stage_started.elapsed().as_secs_f64() / done as f64 * left as f64;
        eprint!(
            "\r  stage {}/{} epoch {}/{} step {}/{} | loss {:.3} acc {:5.1}% | {:.0} img/s | ETA {:.0}s   ",
            self.stage + 1,
            self.stages,
            s.epoch + 1,
            self.epochs,
            s.step + 1,
            self.steps_per_epoch,
            s.loss,
            s.train_acc,
            s.images_per_sec,
            eta
        );
    }
}

impl SearchObserver for ProgressBar {
    fn observe(&mut self, event: &SearchEvent) -> Control {
        match event {
            SearchEvent::StageStart {
                stage,
                stages,
                epochs,
                steps_per_epoch,
                from_epoch,
                cells,
                supernet_params,
                ..
            } => {
                (self.stage, self.stages, self.epochs, self.steps_per_epoch) =
                    (*stage, *stages, *epochs, *steps_per_epoch);
                self.steps_done = from_epoch * steps_per_epoch;
                self.steps_at_start = self.steps_done;
                self.stage_started = Instant::now();
                eprintln!(
                    "stage {}/{}: {} cells, supernet {:.2} M parameters",
                    stage + 1,
                    stages,
                    cells,
                    *supernet_params as f64 / 1e6
                );
            }
            SearchEvent::Step(s) => self.draw_step(s),
            SearchEvent::EpochEnd {
                epoch,
                loss,
                train_acc,
                seconds,
                ..
            } => {
                eprintln!(
                    "\r  epoch {}/{}: loss {:.3}, train acc {:.1}%, {:.1}s{}",
                    epoch + 1,
                    self.epochs,
                    loss,
                    train_acc,
                    seconds,
                    " ".repeat(40)
                );
            }
            SearchEvent::StageEnd(s) => {
                let kept: usize = s.active.iter().map(Vec::len).sum::<usize>()
                    - s.dropped.iter().map(Vec::len).sum::<usize>();
                let entropy = s.entropy.map_or(String::new(), |h| {
                    format!("; policy entropy {h:.2} of {:.2}", s.max_entropy)
                });
                eprintln!(
                    "  stage {} done in {:.1}s; {} ops remain over {} edges{entropy}",
                    s.stage + 1,
                    s.seconds,
                    kept,
                    s.active.len()
                );
            }
            SearchEvent::Finished {
                architecture,
                seconds,
            } => {
                eprintln!("search finished in {seconds:.1}s: {architecture}");
            }
            _ => {}
        }
        Control::Continue
    }
}
