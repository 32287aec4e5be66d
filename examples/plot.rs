//! Writes every plot of a run directory (`result.json`, and `search.jsonl` if present):
//! `front`, `alpha` and `curves`, each as SVG and PNG.
//!
//! ```text
//! cargo run --release --example plot -- quickstart-out
//! ```

fn main() -> anyhow::Result<()> {
    let dirs: Vec<String> = std::env::args().skip(1).collect();
    anyhow::ensure!(!dirs.is_empty(), "usage: plot RUN_DIR [RUN_DIR ...]");
    for dir in dirs {
        print!(
            "{}",
            tnd_nas::plot::write_plots(std::path::Path::new(&dir))?
        );
    }
    Ok(())
}
