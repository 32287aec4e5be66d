//! Observers: progress bars and logs are not the search's business.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{Control, SearchEvent, StageSummary, StepRecord};
use crate::search::SearchError;

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
/// let checkpoint = SearchEvent::Checkpoint { path: "x".into(), sequence: 1 };
/// assert_eq!(OneEpoch.observe(&checkpoint), Control::Continue);
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
    /// Where a resumed log is cut back to, done at its first record (so that a resume
    /// that fails before the search runs leaves the log as it was).
    pending_cut: Option<u64>,
}

impl JsonlLog {
    /// Appends to `path` (created if missing), so that a resumed search continues its log.
    ///
    /// # Errors
    /// [`SearchError::Io`] if the file cannot be opened.
    pub fn append(path: impl AsRef<Path>) -> Result<Self, SearchError> {
        Self::open(path.as_ref(), OpenOptions::new().create(true).append(true))
    }

    fn open(path: &Path, options: &OpenOptions) -> Result<Self, SearchError> {
        let file = options.open(path).map_err(|e| SearchError::io(path, e))?;
        Ok(Self {
            path: path.to_path_buf(),
            out: BufWriter::new(file),
            error: None,
            pending_cut: None,
        })
    }

    /// Starts a new log at `path`; an existing file is refused, never appended to or
    /// replaced (continue one with [`JsonlLog::resume`]).
    ///
    /// # Errors
    /// [`SearchError::Io`] if the file exists or cannot be created.
    pub fn create(path: impl AsRef<Path>) -> Result<Self, SearchError> {
        Self::open(
            path.as_ref(),
            OpenOptions::new().write(true).create_new(true),
        )
    }

    /// Continues the log of a search resumed from the checkpoint numbered `sequence`
    /// ([`crate::search::SearchState::checkpoints`] of the resumed search): the file is
    /// cut back to just after that checkpoint's record, so that the steps the resumed
    /// search replays are not logged twice and a line a crash left half-written goes.
    /// Without that record, when the log's last checkpoint record is the one before (a
    /// crash between the checkpoint and its log line), every complete line is kept.
    ///
    /// Nothing is changed until the first record is written: a resume that fails before
    /// the search runs leaves the log as it was.
    ///
    /// ```
    /// use tnd_nas::search::{JsonlLog, SearchEvent, SearchObserver};
    ///
    /// let path = std::env::temp_dir().join(format!("resume-doc-{}.jsonl", std::process::id()));
    /// let mut log = JsonlLog::create(&path)?;
    /// log.observe(&SearchEvent::Checkpoint { path: "ck".into(), sequence: 1 });
    /// log.observe(&SearchEvent::Checkpoint { path: "ck".into(), sequence: 2 });
    /// drop(log);
    /// // A crash in the middle of a line; the search resumes from checkpoint 1.
    /// std::fs::write(&path, std::fs::read_to_string(&path)? + "{\"kind\":\"st")?;
    /// let mut log = JsonlLog::resume(&path, 1)?;
    /// log.observe(&SearchEvent::Checkpoint { path: "ck".into(), sequence: 2 });
    /// drop(log);
    /// let text = std::fs::read_to_string(&path)?;
    /// assert_eq!(text.lines().count(), 2);
    /// // A log that lacks the records up to the checkpoint would have a gap: refused.
    /// assert!(JsonlLog::resume(&path, 5).is_err());
    /// std::fs::remove_file(&path)?;
    /// assert!(JsonlLog::resume(&path, 1).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`SearchError::Checkpoint`] for a log that is missing or lacks the records up to
    /// the checkpoint (the resumed log would have a gap); [`SearchError::Io`] if the file
    /// cannot be read or opened.
    pub fn resume(path: impl AsRef<Path>, sequence: u64) -> Result<Self, SearchError> {
        let path = path.as_ref().to_path_buf();
        let gap = |reason: String| SearchError::Checkpoint {
            path: path.clone(),
            reason: format!(
                "{reason}: the resumed search's log would have a gap (restore the log, or \
                 start anew with --force)"
            ),
        };
        if !path.exists() {
            return Err(gap("missing".into()));
        }
        let text = std::fs::read(&path).map_err(|e| SearchError::io(&path, e))?;
        let cut = resume_position(&text, sequence).map_err(gap)?;
        let mut log = Self::open(&path, OpenOptions::new().append(true))?;
        log.pending_cut = Some(cut as u64);
        Ok(log)
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

/// Where a resumed log continues: just after the record of checkpoint `sequence`, or,
/// when the last checkpoint record is the one before, after the last complete line;
/// otherwise why the log does not reach the checkpoint.
fn resume_position(text: &[u8], sequence: u64) -> Result<usize, String> {
    let mut complete = 0;
    let mut start = 0;
    let mut last = 0;
    while let Some(len) = text[start..].iter().position(|b| *b == b'\n') {
        let end = start + len + 1;
        let line = &text[start..end - 1];
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(line)
            && value["kind"] == "checkpoint"
            && let Some(seq) = value["sequence"].as_u64()
        {
            if seq == sequence {
                return Ok(end);
            }
            last = seq;
        }
        complete = end;
        start = end;
    }
    if complete > 0 && last + 1 == sequence {
        Ok(complete)
    } else if complete == 0 {
        Err("holds no complete record".into())
    } else {
        Err(format!(
            "its last checkpoint record is number {last}, the checkpoint is number {sequence}"
        ))
    }
}

impl SearchObserver for JsonlLog {
    fn observe(&mut self, event: &SearchEvent) -> Control {
        if let Some(cut) = self.pending_cut.take() {
            let file = self.out.get_ref();
            if let Err(e) = file.set_len(cut).and_then(|_| file.sync_all()) {
                self.error = Some(format!("{}: {e}", self.path.display()));
            }
        }
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

/// How long plain progress lines (stderr not a terminal) wait between two step lines.
const PLAIN_EVERY: Duration = Duration::from_secs(10);

/// Progress of a search on stderr: on a terminal, an indicatif bar over the whole
/// search (with its ETA) above a bar for the current stage (loss, accuracy, images/s);
/// when stderr is redirected, plain lines instead (one every 10 s, and one per epoch and
/// stage), so that a log file holds no `\r` fragments.
#[derive(Debug)]
pub struct ProgressBar {
    bars: Option<Bars>,
    stage: usize,
    stages: usize,
    epochs: usize,
    steps_per_epoch: usize,
    epochs_before: usize,
    total_epochs: usize,
    stage_started: Instant,
    steps_at_start: usize,
    last_line: Option<Instant>,
    entropy: Option<f64>,
}

/// The terminal bars.
#[derive(Debug)]
struct Bars {
    multi: indicatif::MultiProgress,
    overall: indicatif::ProgressBar,
    stage: Option<indicatif::ProgressBar>,
}

impl Default for ProgressBar {
    fn default() -> Self {
        Self::new()
    }
}

impl ProgressBar {
    /// Bars on a terminal, plain lines otherwise (decided from stderr).
    pub fn new() -> Self {
        Self::with_terminal(std::io::stderr().is_terminal())
    }

    /// Plain lines whatever stderr is (e.g. for a CI log).
    pub fn plain() -> Self {
        Self::with_terminal(false)
    }

    fn with_terminal(terminal: bool) -> Self {
        let bars = terminal.then(|| {
            let multi = indicatif::MultiProgress::with_draw_target(
                indicatif::ProgressDrawTarget::stderr_with_hz(5),
            );
            let overall = multi.add(indicatif::ProgressBar::new(0));
            overall.set_style(style(
                "search  [{bar:30.cyan/blue}] {percent:>3}% {elapsed_precise} ETA {eta_precise} {msg}",
            ));
            Bars {
                multi,
                overall,
                stage: None,
            }
        });
        Self {
            bars,
            stage: 0,
            stages: 0,
            epochs: 0,
            steps_per_epoch: 0,
            epochs_before: 0,
            total_epochs: 0,
            stage_started: Instant::now(),
            steps_at_start: 0,
            last_line: None,
            entropy: None,
        }
    }

    /// Prints a line above the bars (or plainly).
    fn line(&self, text: &str) {
        match &self.bars {
            Some(b) => {
                let _ = b.multi.println(text);
            }
            None => eprintln!("{text}"),
        }
    }

    /// Steps of the whole search done after `s`.
    fn overall_done(&self, s: &StepRecord) -> usize {
        (self.epochs_before + s.epoch) * self.steps_per_epoch + s.step + 1
    }

    fn draw_step(&mut self, s: &StepRecord) {
        let stage_done = s.epoch * self.steps_per_epoch + s.step + 1;
        let entropy = self
            .entropy
            .map_or(String::new(), |h| format!(" | entropy {h:.2}"));
        let status = format!(
            "loss {:.3} acc {:5.1}% | {:.0} img/s{entropy}",
            s.loss, s.train_acc, s.images_per_sec
        );
        if let Some(b) = &self.bars {
            b.overall.set_position(self.overall_done(s) as u64);
            if let Some(stage) = &b.stage {
                stage.set_position(stage_done as u64);
                stage.set_message(status);
            }
            return;
        }
        if !line_due(&mut self.last_line) {
            return;
        }
        let stage_total = self.epochs * self.steps_per_epoch;
        let rate = self.stage_started.elapsed().as_secs_f64()
            / stage_done.saturating_sub(self.steps_at_start).max(1) as f64;
        let stage_eta = rate * stage_total.saturating_sub(stage_done) as f64;
        let total_eta = (self.total_epochs > 0).then(|| {
            let total = self.total_epochs * self.steps_per_epoch;
            format!(
                ", search ETA {:.0}s",
                rate * total.saturating_sub(self.overall_done(s)) as f64
            )
        });
        eprintln!(
            "  stage {}/{} epoch {}/{} step {}/{} | {status} | stage ETA {stage_eta:.0}s{}",
            self.stage + 1,
            self.stages,
            s.epoch + 1,
            self.epochs,
            s.step + 1,
            self.steps_per_epoch,
            total_eta.unwrap_or_default()
        );
    }

    /// On a terminal, the overall bar set to the new stage (just recorded, starting at
    /// `from_epoch`) and a new bar for the stage in place of the last one.
    fn restart_bars(&mut self, from_epoch: usize) {
        let steps_per_epoch = self.steps_per_epoch;
        if let Some(b) = &mut self.bars {
            let total = (self.total_epochs * steps_per_epoch) as u64;
            b.overall.set_length(total);
            b.overall
                .set_position(((self.epochs_before + from_epoch) * steps_per_epoch) as u64);
            b.overall.reset_eta();
            if let Some(old) = b.stage.take() {
                old.finish_and_clear();
                b.multi.remove(&old);
            }
            let bar = b.multi.add(indicatif::ProgressBar::new(
                (self.epochs * steps_per_epoch) as u64,
            ));
            bar.set_style(style(&format!(
                "stage {}/{} [{{bar:30.green/white}}] {{pos}}/{{len}} ETA {{eta}} {{msg}}",
                self.stage + 1,
                self.stages
            )));
            bar.set_position(self.steps_at_start as u64);
            bar.reset_eta();
            b.stage = Some(bar);
        }
    }

    /// The line of a finished stage: its time, the ops left, the policy's entropy.
    fn stage_done(&mut self, s: &StageSummary) {
        let kept: usize = s.active.iter().map(Vec::len).sum::<usize>()
            - s.dropped.iter().map(Vec::len).sum::<usize>();
        let entropy = s.entropy.map_or(String::new(), |h| {
            format!("; policy entropy {h:.2} of {:.2}", s.max_entropy)
        });
        self.line(&format!(
            "  stage {} done in {:.1}s; {} ops remain over {} edges{entropy}",
            s.stage + 1,
            s.seconds,
            kept,
            s.active.len()
        ));
    }
}

/// True when a plain step line is due (none yet, or [`PLAIN_EVERY`] since the last),
/// recording it as printed.
fn line_due(last: &mut Option<Instant>) -> bool {
    let now = Instant::now();
    if last.is_some_and(|t| now.duration_since(t) < PLAIN_EVERY) {
        return false;
    }
    *last = Some(now);
    true
}

/// A bar style from a template known to be valid.
fn style(template: &str) -> indicatif::ProgressStyle {
    indicatif::ProgressStyle::with_template(template)
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> ")
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
                epochs_before,
                total_epochs,
                ..
            } => {
                (self.stage, self.stages, self.epochs, self.steps_per_epoch) =
                    (*stage, *stages, *epochs, *steps_per_epoch);
                // Logs from before the totals existed: this stage alone.
                (self.epochs_before, self.total_epochs) = if *total_epochs > 0 {
                    (*epochs_before, *total_epochs)
                } else {
                    (0, *epochs)
                };
                self.steps_at_start = from_epoch * steps_per_epoch;
                self.stage_started = Instant::now();
                self.entropy = None;
                self.line(&format!(
                    "stage {}/{}: {} cells, supernet {:.2} M parameters",
                    stage + 1,
                    stages,
                    cells,
                    *supernet_params as f64 / 1e6
                ));
                self.restart_bars(*from_epoch);
            }
            SearchEvent::Step(s) => self.draw_step(s),
            SearchEvent::Alpha(a) => self.entropy = a.entropy,
            SearchEvent::EpochEnd {
                epoch,
                loss,
                train_acc,
                seconds,
                ..
            } => {
                self.line(&format!(
                    "  stage {} epoch {}/{}: loss {:.3}, train acc {:.1}%, {:.1}s",
                    self.stage + 1,
                    epoch + 1,
                    self.epochs,
                    loss,
                    train_acc,
                    seconds
                ));
            }
            SearchEvent::StageEnd(s) => self.stage_done(s),
            SearchEvent::Finished {
                architecture,
                seconds,
            } => {
                if let Some(b) = &mut self.bars {
                    if let Some(stage) = b.stage.take() {
                        stage.finish_and_clear();
                    }
                    b.overall.finish_and_clear();
                }
                eprintln!("search finished in {seconds:.1}s: {architecture}");
            }
            _ => {}
        }
        Control::Continue
    }
}

/// Progress of [`crate::train::retrain`] on stderr: on a terminal, a bar per epoch (step,
/// loss) under a bar over all epochs (ETA); when stderr is redirected, one line per
/// epoch and a step line every 10 s. Pass `&mut |e| progress.observe(e)` as the
/// observer.
#[derive(Debug)]
pub struct RetrainProgress {
    bars: Option<(
        indicatif::MultiProgress,
        indicatif::ProgressBar,
        indicatif::ProgressBar,
    )>,
    terminal: bool,
    epochs: usize,
    last_line: Option<Instant>,
}

impl Default for RetrainProgress {
    fn default() -> Self {
        Self::new()
    }
}

impl RetrainProgress {
    /// Bars on a terminal, plain lines otherwise (decided from stderr).
    pub fn new() -> Self {
        Self {
            bars: None,
            terminal: std::io::stderr().is_terminal(),
            epochs: 0,
            last_line: None,
        }
    }

    /// Plain lines whatever stderr is.
    pub fn plain() -> Self {
        Self {
            terminal: false,
            ..Self::new()
        }
    }

    fn line(&self, text: &str) {
        match &self.bars {
            Some((multi, ..)) => {
                let _ = multi.println(text);
            }
            None => eprintln!("{text}"),
        }
    }

    /// Reports one retraining event.
    pub fn observe(&mut self, event: crate::train::RetrainEvent) {
        use crate::train::RetrainEvent;
        match event {
            RetrainEvent::Started {
                params,
                epochs,
                steps_per_epoch,
            } => {
                self.epochs = epochs;
                if self.terminal {
                    let multi = indicatif::MultiProgress::with_draw_target(
                        indicatif::ProgressDrawTarget::stderr_with_hz(5),
                    );
                    let all = multi.add(indicatif::ProgressBar::new(
                        (epochs * steps_per_epoch) as u64,
                    ));
                    all.set_style(style(
                        "retrain [{bar:30.cyan/blue}] {percent:>3}% {elapsed_precise} ETA {eta_precise}",
                    ));
                    let epoch = multi.add(indicatif::ProgressBar::new(steps_per_epoch as u64));
                    epoch.set_style(style("epoch   [{bar:30.green/white}] {pos}/{len} {msg}"));
                    self.bars = Some((multi, all, epoch));
                }
                self.line(&format!(
                    "training {:.3}M parameters: {epochs} epochs of {steps_per_epoch} steps",
                    params as f64 / 1e6
                ));
            }
            RetrainEvent::Step {
                epoch,
                step,
                steps,
                loss,
                ..
            } => {
                if let Some((_, all, bar)) = &self.bars {
                    all.set_position((epoch * steps + step + 1) as u64);
                    bar.set_position((step + 1) as u64);
                    bar.set_message(format!(
                        "epoch {}/{} loss {loss:.4}",
                        epoch + 1,
                        self.epochs
                    ));
                    return;
                }
                if !line_due(&mut self.last_line) {
                    return;
                }
                eprintln!(
                    "  epoch {}/{} step {}/{steps}: loss {loss:.4}",
                    epoch + 1,
                    self.epochs,
                    step + 1
                );
            }
            RetrainEvent::Epoch(e) => {
                let test = e
                    .test_accuracy
                    .map_or(String::new(), |a| format!("  test {a:.2}%"));
                self.line(&format!(
                    "epoch {:>4}  lr {:.5}  loss {:.4}  train {:.2}%{test}  {:.1}s  {:.0} img/s",
                    e.epoch + 1,
                    e.lr,
                    e.loss,
                    e.train_accuracy,
                    e.seconds,
                    e.images_per_sec
                ));
                if e.epoch + 1 == self.epochs
                    && let Some((multi, all, bar)) = self.bars.take()
                {
                    bar.finish_and_clear();
                    all.finish_and_clear();
                    let _ = multi.clear();
                }
            }
        }
    }
}
