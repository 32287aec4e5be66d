//! The supernet's weights and optimiser state in a checkpoint directory.

use std::path::Path;

use burn::module::AutodiffModule;
use burn::optim::Optimizer;
use burn::record::{BinFileRecorder, FullPrecisionSettings, Recorder};
use burn::tensor::backend::AutodiffBackend;

use crate::error::SearchError;

const MODEL: &str = "model";
const OPTIM: &str = "optim";

fn recorder() -> BinFileRecorder<FullPrecisionSettings> {
    BinFileRecorder::<FullPrecisionSettings>::new()
}

fn ck_err(path: &Path, reason: impl std::fmt::Display) -> SearchError {
    SearchError::Checkpoint {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// Writes a supernet's weights and optimiser state into `dir`.
pub(crate) fn write_weights<B, M, O>(dir: &Path, model: &M, optim: &O) -> Result<(), SearchError>
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
) -> Result<(M, O), SearchError>
where
    B: AutodiffBackend,
    M: AutodiffModule<B>,
    O: Optimizer<M, B>,
{
    let model = model
        .load_file(dir.join(MODEL), &recorder(), device)
        .map_err(|e| {
            ck_err(
                &dir.join(MODEL),
                format!("weights do not fit the supernet: {e}"),
            )
        })?;
    let record = recorder()
        .load(dir.join(OPTIM), device)
        .map_err(|e| ck_err(&dir.join(OPTIM), format!("unreadable optimiser state: {e}")))?;
    Ok((model, optim.load_record(record)))
}
