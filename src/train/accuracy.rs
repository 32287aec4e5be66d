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

/// The summed softmax probability of each image's label (one device read): the
/// "soft" hits of [`crate::train::ScoreMetric::Probability`].
pub(crate) fn true_class_probability<B: Backend>(
    logits: Tensor<B, 2>,
    labels: Tensor<B, 1, Int>,
) -> f64 {
    let [n, _] = logits.dims();
    burn::tensor::activation::softmax(logits, 1)
        .gather(1, labels.reshape([n, 1]))
        .sum()
        .into_scalar()
        .elem::<f64>()
}

#[cfg(test)]
mod tests {
    use burn::backend::Flex;
    use burn::tensor::{Int, Tensor, TensorData};

    use super::{hits_value, true_class_probability};

    #[test]
    fn soft_hits_sum_the_label_probabilities() {
        let device = Default::default();
        // Row 0: softmax (0.5, 0.5), label 0; row 1: softmax (e/(1+e), 1/(1+e)), label 1.
        let logits =
            Tensor::<Flex, 2>::from_data(TensorData::from([[0.0f32, 0.0], [1.0, 0.0]]), &device);
        let labels = Tensor::<Flex, 1, Int>::from_data(TensorData::from([0i64, 1]), &device);
        let e = std::f64::consts::E;
        let soft = true_class_probability(logits.clone(), labels.clone());
        assert!((soft - (0.5 + 1.0 / (1.0 + e))).abs() < 1e-6, "{soft}");
        // Top-1 counts row 0 (a tie picks the first class) and misses row 1.
        assert_eq!(hits_value(logits, labels), 1.0);
    }
}
