//! What a search tells the world: events ([`SearchEvent`]) and the observers that
//! receive them ([`SearchObserver`]: a JSONL log, a progress line, or your own).

mod event;
mod observer;

pub use event::{AlphaRecord, Control, SearchEvent, StageSummary, StepRecord};
pub use observer::{JsonlLog, ProgressBar, RetrainProgress, SearchObserver};

/// Sends `event` to every observer; true when one of them asks to stop.
pub(crate) fn emit(observers: &mut [&mut dyn SearchObserver], event: &SearchEvent) -> bool {
    let mut stop = false;
    for o in observers.iter_mut() {
        stop |= o.observe(event) == Control::Stop;
    }
    stop
}
