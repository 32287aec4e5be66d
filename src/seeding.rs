//! Reproducible random draws on burn's backends, also when threads share a process.
//!
//! burn's CPU backends keep **one random state per process**: [`Backend::seed`] stores a
//! generator in a global, and every random tensor (a weight's initialisation, a dropout
//! or drop-path mask) draws from it. Two threads that each seed and then build a network
//! can therefore interleave their draws, and each gets weights neither seed describes:
//! a proxy score or a supernet that changes with what else the process is doing (two
//! tests running side by side were enough).
//!
//! tnd-nas seeds only through [`seeded`], which holds one process-wide lock while it
//! seeds and runs the draws that must follow the seed: the proxy scorers and the
//! supernet build and draw all their weights inside it
//! ([`crate::ops::seeded_module`]). Seeded work of your own that runs beside tnd-nas in
//! other threads should go through it too; a random draw made outside it while tnd-nas
//! holds the lock can still shift tnd-nas's draws. Draws made during training (dropout,
//! drop path, and a retrained network's weights, drawn by its first pass so that earlier
//! retrainings reproduce) happen outside the lock: where those must reproduce, train one
//! network per process at a time.
//!
//! ```
//! use burn::backend::Flex;
//! use burn::tensor::{Distribution, Tensor};
//! use tnd_nas::seeding::seeded;
//!
//! let device = Default::default();
//! let draw = || Tensor::<Flex, 1>::random([4], Distribution::Default, &device).into_data();
//! let a = seeded::<Flex, _>(&device, 7, draw);
//! let b = seeded::<Flex, _>(&device, 7, draw);
//! assert_eq!(a, b);
//! ```

use std::cell::Cell;
use std::sync::{Mutex, PoisonError};

use burn::tensor::backend::Backend;

/// The lock on every backend's random state (one for all backends: a thread holds at
/// most one seeded section at a time, so one lock cannot deadlock).
static LOCK: Mutex<()> = Mutex::new(());

thread_local! {
    /// Whether this thread holds [`LOCK`] (a seeded section inside another re-seeds
    /// without locking again).
    static HELD: Cell<bool> = const { Cell::new(false) };
}

/// Clears [`HELD`] when the section ends, also by a panic.
struct Held;

impl Drop for Held {
    fn drop(&mut self) {
        HELD.with(|h| h.set(false));
    }
}

/// Seeds `B`'s random state with `seed` and runs `f`, holding the process-wide lock on
/// the backends' random state meanwhile, so that the draws `f` makes are the seed's
/// whatever other threads do through this function.
///
/// A call inside `f` (the same thread) re-seeds and runs without locking again.
pub fn seeded<B: Backend, R>(device: &B::Device, seed: u64, f: impl FnOnce() -> R) -> R {
    if HELD.with(Cell::get) {
        B::seed(device, seed);
        return f();
    }
    // A panic in another thread's section leaves nothing half-done here: the seed is
    // set anew below.
    let _guard = LOCK.lock().unwrap_or_else(PoisonError::into_inner);
    HELD.with(|h| h.set(true));
    let _held = Held;
    B::seed(device, seed);
    f()
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;
    use burn::tensor::{Distribution, Tensor};

    fn draw(n: usize) -> Vec<f32> {
        Tensor::<Flex, 1>::random([n], Distribution::Default, &Default::default())
            .into_data()
            .to_vec()
            .unwrap()
    }

    /// Threads that seed and draw side by side each get their seed's numbers.
    #[test]
    fn concurrent_seeded_draws_are_each_their_seeds() {
        let device = Default::default();
        // Draws with pauses between them, as a network's initialisation has: without the
        // lock the threads' draws interleave.
        let draws = || {
            (0..10)
                .flat_map(|_| {
                    std::thread::sleep(std::time::Duration::from_micros(300));
                    draw(7)
                })
                .collect::<Vec<f32>>()
        };
        let alone: Vec<Vec<f32>> = (0..4)
            .map(|s| seeded::<Flex, _>(&device, s, draws))
            .collect();
        let together: Vec<Vec<Vec<f32>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|s| {
                    scope.spawn(move || {
                        (0..5)
                            .map(|_| seeded::<Flex, _>(&Default::default(), s, draws))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (a, t) in alone.iter().zip(&together) {
            assert!(t.iter().all(|t| t == a));
        }
    }

    /// A section inside a section re-seeds instead of waiting on itself; the lock is
    /// free again afterwards, also after a panic.
    #[test]
    fn nested_sections_reseed_and_a_panic_frees_the_lock() {
        let device = Default::default();
        let (inner, outer_after) = seeded::<Flex, _>(&device, 1, || {
            let inner = seeded::<Flex, _>(&device, 2, || draw(3));
            (inner, draw(3))
        });
        assert_eq!(inner, seeded::<Flex, _>(&device, 2, || draw(3)));
        assert_eq!(
            outer_after,
            seeded::<Flex, _>(&device, 2, || {
                draw(3);
                draw(3)
            })
        );
        let panicked = std::panic::catch_unwind(|| seeded::<Flex, _>(&device, 3, || panic!()));
        assert!(panicked.is_err());
        assert!(!HELD.with(Cell::get));
        let other = std::thread::spawn(|| seeded::<Flex, _>(&Default::default(), 4, || draw(2)));
        assert_eq!(
            other.join().unwrap(),
            seeded::<Flex, _>(&device, 4, || draw(2))
        );
    }
}
