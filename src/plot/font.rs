//! The bundled font: every text is drawn with DejaVu Sans through ab_glyph, so no plot
//! depends on the fonts of the system it runs on.

use std::sync::OnceLock;

use plotters::style::{FontStyle, register_font};

use super::PlotError;

/// The family name every plot asks for.
pub(crate) const FAMILY: &str = "sans-serif";

/// DejaVu Sans (Bitstream Vera licence, `data/fonts/LICENSE-DejaVu.txt`).
static DEJAVU_SANS: &[u8] = include_bytes!("../../data/fonts/DejaVuSans.ttf");

/// Registers the bundled font under [`FAMILY`], once per process.
///
/// # Errors
/// [`PlotError::Font`] if the font does not load (it is compiled in, so only a damaged
/// build can see this).
pub(crate) fn register() -> Result<(), PlotError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok =
        *REGISTERED.get_or_init(|| register_font(FAMILY, FontStyle::Normal, DEJAVU_SANS).is_ok());
    if ok { Ok(()) } else { Err(PlotError::Font) }
}
