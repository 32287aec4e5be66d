//! One entry point for every proxy: what a command or a search calls per architecture.

use burn::module::AutodiffModule;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Int, Tensor};

use super::{ProxyError, ZeroCostProxy, grad_norm, naswot, snip, synflow};
use crate::data::{AugmentConfig, BatchLoaderConfig, DataError, ImageDataset, Normalization};
use crate::network::ImageClassifier;

/// What the proxies read besides the network: the input shape `[channels, height,
/// width]` (synflow's all-ones image) and, for the data-dependent proxies, one batch of
/// images and labels.
#[derive(Debug, Clone)]
pub struct ProxyInput<B: AutodiffBackend> {
    /// `[channels, height, width]` of one image.
    pub shape: [usize; 3],
    /// Images `[n, c, h, w]` and labels `[n]` (naswot, grad_norm, snip).
    pub batch: Option<(Tensor<B, 4>, Tensor<B, 1, Int>)>,
}

impl<B: AutodiffBackend> ProxyInput<B> {
    /// The input of images like `data`'s and, when `batch` is `Some(n)`, one batch of `n`
    /// of its images drawn with `seed`, normalised by `normalization` and not augmented,
    /// moved to `device` once.
    ///
    /// # Errors
    /// [`DataError`] for a batch size the dataset cannot fill or a bad normalisation.
    pub fn from_dataset(
        data: ImageDataset,
        normalization: Option<Normalization>,
        batch: Option<usize>,
        seed: u64,
        device: &B::Device,
    ) -> Result<Self, DataError> {
        let shape = data.shape();
        let batch = match batch {
            Some(n) => {
                let augment = AugmentConfig::none().with_normalization(normalization);
                let loader = BatchLoaderConfig::new(n)
                    .with_shuffle(true)
                    .with_seed(seed)
                    .with_augment(augment)
                    .init(data)?;
                Some(loader.batch(0, 0)?.to_tensors::<B>(device))
            }
            None => None,
        };
        Ok(Self {
            shape: [shape.channels, shape.height, shape.width],
            batch,
        })
    }
}

/// `proxy`'s score of a freshly initialised `network` (seed the backend before building
/// it). synflow runs on the network's inner backend (no graph is recorded); the others
/// read `input.batch`. A NASWOT kernel that is singular (a network whose output reads
/// nothing of its input codes every image alike) scores `f64::MIN`, below every other
/// network, rather than failing.
///
/// ```
/// use burn::backend::{Autodiff, NdArray};
/// use tnd_nas::network::{BuildNetwork};
/// use tnd_nas::spaces::nb201::{Nb201NetworkConfig, Nb201NetworkSpec};
/// use tnd_nas::proxy::{ProxyInput, ZeroCostProxy, score};
/// use tnd_nas::spaces::nb201::Nb201Space;
/// type B = Autodiff<NdArray>;
/// let spec = Nb201NetworkSpec::new(Nb201NetworkConfig::new(4, 1, 10));
/// let arch = Nb201Space::new().parse("|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2|")?;
/// let device = Default::default();
/// let input = ProxyInput::<B> { shape: [3, 8, 8], batch: None };
/// let s = score(ZeroCostProxy::Synflow, spec.build::<B>(&arch, &device)?, &input)?;
/// assert!(s > 0.0);
/// // naswot needs a batch.
/// assert!(score(ZeroCostProxy::Naswot, spec.build::<B>(&arch, &device)?, &input).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`ProxyError::Data`] for a data-dependent proxy without a batch;
/// [`ProxyError::NonFinite`] for a score that is not finite.
pub fn score<B, M>(
    proxy: ZeroCostProxy,
    network: M,
    input: &ProxyInput<B>,
) -> Result<f64, ProxyError>
where
    B: AutodiffBackend,
    M: AutodiffModule<B> + ImageClassifier<B>,
    M::InnerModule: ImageClassifier<B::InnerBackend>,
{
    let batch = || {
        input.batch.clone().ok_or_else(|| ProxyError::Data {
            proxy: proxy.to_string(),
            reason: "needs a batch of images (give a dataset)".into(),
        })
    };
    let value = match proxy {
        ZeroCostProxy::Synflow => {
            let device = network.devices().into_iter().next().unwrap_or_default();
            return synflow(network.valid(), input.shape, &device);
        }
        // A forward pass only: on the inner backend, no graph recorded.
        ZeroCostProxy::Naswot => naswot(&network.valid(), batch()?.0.inner()),
        ZeroCostProxy::GradNorm => {
            let (images, labels) = batch()?;
            grad_norm(&network, images, labels)
        }
        ZeroCostProxy::Snip => {
            let (images, labels) = batch()?;
            snip(&network, images, labels)
        }
        ZeroCostProxy::ZeroCost => Err(ProxyError::Data {
            proxy: proxy.to_string(),
            reason: "standardises synflow and the parameter count on a reference sample \
                     of the space: score it with a ProxyScorer"
                .into(),
        }),
    };
    match value {
        Err(ProxyError::NonFinite { value, .. }) if value == f64::NEG_INFINITY => Ok(f64::MIN),
        other => other,
    }
}
