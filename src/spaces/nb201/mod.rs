//! The NAS-Bench-201 cell space: [`Nb201Space`], its cells as values and strings
//! ([`Nb201Genotype`]), its supernet ([`Nb201SuperNet`]), its evaluation network (the
//! benchmark's `TinyNetwork`, [`Nb201Network`]), the export in the benchmark's names, and
//! how a search trains and scores it.

mod export;
mod genotype;
mod network;
mod scoring;
mod space;
mod supernet;

pub use export::{
    check_nb201_exportable, export_nb201_safetensors, import_nb201_safetensors,
    load_nb201_safetensors,
};
#[cfg(test)]
pub(crate) use genotype::NB201_NOTATION;
pub use genotype::Nb201Genotype;
pub use network::{Nb201Cell, Nb201EvalBlock, Nb201Network, Nb201NetworkConfig, Nb201NetworkSpec};
pub use space::{NB201_EDGES, Nb201Space, nb201_live_edges};
pub use supernet::{
    Nb201Block, Nb201SearchCell, Nb201SuperNet, Nb201SuperNetConfig, ResidualBlock,
};
pub(crate) use supernet::{nb201_cell_forward, residual_param_count, residual_specs};
