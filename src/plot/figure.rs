//! Drawing a figure on either backend and writing it atomically.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{Format, PlotError, font};

/// What a figure's drawing returns on a backend.
pub(crate) type DrawResult<DB> =
    Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A picture that can be drawn on any plotters backend.
pub(crate) trait Figure {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);
    /// Draws onto `root`, already filled white.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

/// Draws `figure` and writes it to `path` in the format its extension names, through a
/// temporary file in the same directory and a rename.
pub(crate) fn render(figure: &impl Figure, path: &Path) -> Result<(), PlotError> {
    let format = Format::from_path(path)?;
    font::register()?;
    let draw_err = |e: &dyn std::fmt::Display| PlotError::Draw {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let (w, h) = figure.size();
    let bytes = match format {
        Format::Svg => {
            let mut text = String::new();
            {
                let root = SVGBackend::with_string(&mut text, (w, h)).into_drawing_area();
                root.fill(&WHITE).map_err(|e| draw_err(&e))?;
                figure.draw(&root).map_err(|e| draw_err(&e))?;
                root.present().map_err(|e| draw_err(&e))?;
            }
            text.into_bytes()
        }
        Format::Png => {
            let mut pixels = vec![0u8; 3 * w as usize * h as usize];
            {
                let root = BitMapBackend::with_buffer(&mut pixels, (w, h)).into_drawing_area();
                root.fill(&WHITE).map_err(|e| draw_err(&e))?;
                figure.draw(&root).map_err(|e| draw_err(&e))?;
                root.present().map_err(|e| draw_err(&e))?;
            }
            encode_png(&pixels, (w, h)).map_err(|e| draw_err(&e))?
        }
    };
    write_atomically(path, &bytes)
}

/// RGB pixels as a PNG file's bytes.
fn encode_png(pixels: &[u8], (w, h): (u32, u32)) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Best);
    encoder.set_adaptive_filter(png::AdaptiveFilterType::Adaptive);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(pixels)?;
    writer.finish()?;
    Ok(out)
}

/// Writes `bytes` to `.NAME.tmp` beside `path`, then renames it to `path`.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), PlotError> {
    crate::atomic_write::write(path, bytes).map_err(|e| PlotError::io(path, e))
}
