//! Evaluation networks as the PyTorch `state_dict` of their reference implementations, in
//! safetensors, and back.
//!
//! Two families: DARTS-space networks ([`EvalNetwork`](crate::spaces::darts::EvalNetwork)) as the
//! DARTS reference code's `NetworkCIFAR` (quark0/darts, `cnn/model.py`), and
//! NAS-Bench-201 networks ([`Nb201Network`](crate::spaces::nb201::Nb201Network)) as the
//! NAS-Bench-201 reference code's `TinyNetwork` (D-X-Y/AutoDL-Projects,
//! `xautodl/models/cell_infers/tiny_network.py`). A family only says how the burn path of
//! each tensor is named in its reference model, and, where it can derive it from the
//! reference code, which names and shapes the reference `state_dict` has
//! (`state_dict::ReferenceNames`); collecting the tensors (burn-store, with its PyTorch
//! adapter transposing `Linear` weights), adding each BN's `num_batches_tracked`, writing
//! (the `safetensors` crate, atomically, never overwriting), checking a file's tensors
//! against a network by name, shape and dtype, and loading them (burn-store) are shared.
//! The genotype and the network configuration travel in the file's metadata
//! ([`GENOTYPE_KEY`], [`NETWORK_KEY`]), so an import needs nothing but the file.
//!
//! No crate at burn 0.21 writes ONNX from a burn module: burn-onnx (formerly burn-import)
//! only reads ONNX into generated burn code, burn-store moves weights but no graph, and
//! burn has no tracer or graph exporter (its maintainers: "we only support importing ONNX
//! models"); for ONNX, load the exported file into the reference model in PyTorch and use
//! `torch.onnx.export`.

pub(crate) mod state_dict;

pub use state_dict::{ExportSummary, GENOTYPE_KEY, NETWORK_KEY};
