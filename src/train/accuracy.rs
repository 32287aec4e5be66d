//! Counting correct predictions.

use burn::tensor::backend::Backend;
use burn::tensor::{ElementConversion, Int, Tensor};

/// How many rows of `logits` (`[n, classes]`) have their largest value at the label
/// (`[n]`), as a one-element tensor (read it once with other numbers, or with
/// `into_scalar`).
///
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::{ElementConversion, Int, Tensor};
/// use tnd_nas::train::count_correct;
/// let device = Default::default();
/// let logits = Tensor::<NdArray, 2>::from_floats([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]], &device);
/// let labels = Tensor::<NdArray, 1, Int>::from_ints([1, 1, 1], &device);
/// assert_eq!(count_correct(logits, labels).into_scalar().elem::<f64>(), 2.0);
/// ```
pub fn count_correct<B: Backend>(logits: Tensor<B, 2>, labels: Tensor<B, 1, Int>) -> Tensor<B, 1> {
    logits
        .argmax(1)
        .flatten::<1>(0, 1)
        .equal(labels)
        .int()
        .sum()
        .float()
}

/// The loss value and the number of correct rows, read from the device at once.
///
/// # Errors
/// The backend's message when the data cannot be read.
pub fn loss_and_hits<B: Backend>(
    loss: Tensor<B, 1>,
    logits: Tensor<B, 2>,
    labels: Tensor<B, 1, Int>,
) -> Result<(f64, f64), String> {
    let both = Tensor::cat(vec![loss, count_correct(logits, labels)], 0)
        .into_data()
        .convert::<f64>()
        .to_vec::<f64>()
        .map_err(|e| format!("reading the loss: {e:?}"))?;
    match both[..] {
        [l, h] => Ok((l, h)),
        _ => Err(format!("read {} values for loss and hits", both.len())),
    }
}

/// Hits as a number (one device read).
pub(crate) fn hits_value<B: Backend>(logits: Tensor<B, 2>, labels: Tensor<B, 1, Int>) -> f64 {
    count_correct(logits, labels).into_scalar().elem::<f64>()
}
