//! The prefetching iterator over the batches of one epoch.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, sync_channel};
use std::thread::JoinHandle;

use super::batch_plan::BatchPlan;
use super::{DataError, ImageBatch};

/// Iterator over the batches of one epoch, prepared ahead by worker threads.
///
/// Worker `w` of `W` builds batches `start + w`, `start + w + W`, ... into its own
/// bounded queue; the iterator takes them round-robin, so batches arrive in order and
/// are identical whatever the number of workers. Dropping the iterator early closes
/// the queues and joins the workers. Created by [`BatchLoader::epoch`](super::BatchLoader::epoch).
#[derive(Debug)]
pub struct EpochBatches {
    epoch: u64,
    start: usize,
    next: usize,
    end: usize,
    receivers: Vec<Receiver<ImageBatch>>,
    workers: Vec<JoinHandle<()>>,
}

impl EpochBatches {
    /// Starts the workers for batches `start..end` of `epoch`.
    pub(crate) fn spawn(
        plan: &Arc<BatchPlan>,
        epoch: u64,
        start: usize,
        end: usize,
    ) -> Result<Self, DataError> {
        let count = plan.config.workers.min(end - start);
        let mut this = Self {
            epoch,
            start,
            next: start,
            end,
            receivers: Vec::with_capacity(count),
            workers: Vec::with_capacity(count),
        };
        if count == 0 {
            return Ok(this);
        }
        let order: Arc<[usize]> = plan.order(epoch).into();
        for w in 0..count {
            let (tx, rx) = sync_channel(plan.config.prefetch);
            let (plan, order) = (Arc::clone(plan), Arc::clone(&order));
            let handle = std::thread::Builder::new()
                .name(format!("tnd-nas-data-{w}"))
                .spawn(move || {
                    for index in (start + w..end).step_by(count) {
                        if tx.send(plan.build(epoch, &order, index)).is_err() {
                            return; // the iterator was dropped
                        }
                    }
                })
                // On error, `this` drops and shuts down the workers started so far.
                .map_err(DataError::Thread)?;
            this.receivers.push(rx);
            this.workers.push(handle);
        }
        Ok(this)
    }

    /// The epoch these batches belong to.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Index within the epoch of the batch the next call to `next` returns; store it
    /// to resume mid-epoch with [`BatchLoader::epoch_from`](super::BatchLoader::epoch_from).
    pub fn next_index(&self) -> usize {
        self.next
    }

    /// Closes the queues and waits for the workers; returns a worker's panic payload.
    fn shut_down(&mut self) -> Option<Box<dyn std::any::Any + Send>> {
        self.receivers.clear();
        let mut panic = None;
        for handle in self.workers.drain(..) {
            if let Err(payload) = handle.join() {
                panic.get_or_insert(payload);
            }
        }
        panic
    }
}

impl Iterator for EpochBatches {
    type Item = ImageBatch;

    fn next(&mut self) -> Option<ImageBatch> {
        if self.next >= self.end {
            return None;
        }
        let worker = (self.next - self.start) % self.receivers.len().max(1);
        match self.receivers.get(worker).map(Receiver::recv) {
            Some(Ok(batch)) => {
                self.next += 1;
                Some(batch)
            }
            _ => {
                // A worker stopped early, which only happens if it panicked: pass that on.
                self.next = self.end;
                if let Some(payload) = self.shut_down() {
                    std::panic::resume_unwind(payload);
                }
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.end - self.next;
        (left, Some(left))
    }
}

impl ExactSizeIterator for EpochBatches {}

impl std::iter::FusedIterator for EpochBatches {}

impl Drop for EpochBatches {
    fn drop(&mut self) {
        // A worker panic is dropped here; it can only surface through `next`.
        let _ = self.shut_down();
    }
}
