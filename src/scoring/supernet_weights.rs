//! The supernet's weights and optimiser state in a checkpoint directory.

use std::path::Path;

use burn::module::AutodiffModule;
use burn::optim::Optimizer;
use burn::record::{BinFileRecorder, FullPrecisionSettings, Recorder};
use burn::tensor::backend::AutodiffBackend;

use super::ScoringError;

const MODEL: &str = "model";
const OPTIM: &str = "optim";

fn recorder() -> BinFileRecorder<FullPrecisionSettings> {
    BinFileRecorder::<FullPrecisionSettings>::new()
}

fn ck_err(path: &Path, reason: impl std::fmt::Display) -> ScoringError {
    ScoringError::Checkpoint {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// Writes a supernet's weights and optimiser state into `dir`.
pub(crate) fn write_weights<B, M, O>(dir: &Path, model: &M, optim: &O) -> Result<(), ScoringError>
where
    B: AutodiffBackend,
    M: AutodiffModule<B>,
    O: Optimizer<M, B>,
{
    model
        .clone()
        .save_file(dir.join(MODEL), &recorder())
        .map_err(|e| ck_err(&dir.join(MODEL), e))?;
    recorder()
        .record(optim.to_record(), dir.join(OPTIM))
        .map_err(|e| ck_err(&dir.join(OPTIM), e))
}

/// Loads weights and optimiser state into freshly built ones.
pub(crate) fn read_weights<B, M, O>(
    dir: &Path,
    model: M,
    optim: O,
    device: &B::Device,
) -> Result<(M, O), ScoringError>
where
    B: AutodiffBackend,
    M: AutodiffModule<B>,
    O: Optimizer<M, B>,
{
    // burn panics (instead of erring) on a record of another module structure; the
    // checkpoint's manifest refuses foreign files before this point, and a panic that
    // still comes is turned into the same error here.
    let unwind = |what: &str, path: &Path| {
        ck_err(
            path,
            format!("{what} do not fit this stage's supernet (another stage's or run's?)"),
        )
    };
    // burn takes the path without its extension; errors name the file.
    let model_path = dir.join(MODEL);
    let model_file = model_path.with_extension("bin");
    let first_line =
        |e: &dyn std::fmt::Display| e.to_string().lines().next().unwrap_or_default().to_string();
    let model = quietly(|| model.load_file(&model_path, &recorder(), device))
        .map_err(|_| unwind("weights", &model_file))?
        .map_err(|e| {
            ck_err(
                &model_file,
                format!("weights do not fit the supernet: {}", first_line(&e)),
            )
        })?;
    let optim_path = dir.join(OPTIM);
    let record = recorder().load(optim_path.clone(), device).map_err(|e| {
        ck_err(
            &optim_path.with_extension("bin"),
            format!("unreadable optimiser state: {}", first_line(&e)),
        )
    })?;
    let optim = quietly(|| optim.load_record(record))
        .map_err(|_| unwind("optimiser state", &optim_path.with_extension("bin")))?;
    Ok((model, optim))
}

/// Runs `f`, turning a panic into `Err` without printing it (the caller reports it as an
/// error of its own; the default hook would print a panic message first).
fn quietly<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    std::panic::set_hook(hook);
    result
}
