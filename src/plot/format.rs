//! The image formats a plot is written in.

use std::fmt;
use std::path::Path;

use super::PlotError;

/// The image format of a plot, told by the output path's extension.
///
/// ```
/// use std::path::Path;
/// use tnd_nas::plot::Format;
///
/// assert_eq!(Format::from_path(Path::new("run/front.svg"))?, Format::Svg);
/// assert_eq!(Format::from_path(Path::new("run/front.PNG"))?, Format::Png);
/// assert!(Format::from_path(Path::new("run/front")).is_err());
/// # Ok::<(), tnd_nas::plot::PlotError>(())
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Scalable vector graphics (text stays text).
    Svg,
    /// A PNG bitmap.
    Png,
}

impl Format {
    /// The format named by `path`'s extension (`svg` or `png`, any case).
    ///
    /// # Errors
    /// [`PlotError::UnknownFormat`] naming `path` for any other extension, or none.
    pub fn from_path(path: &Path) -> Result<Self, PlotError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("svg") => Ok(Format::Svg),
            Some("png") => Ok(Format::Png),
            _ => Err(PlotError::UnknownFormat {
                path: path.to_path_buf(),
            }),
        }
    }

    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Svg => "svg",
            Format::Png => "png",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}
