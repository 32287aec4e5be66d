//! # tnd-nas
//!
//! Neural architecture search for objectives gradient descent cannot see.
#![warn(missing_docs)]

pub mod data;
pub mod eval;
pub mod objective;
pub mod ops;
pub mod policy;
pub mod schedule;
pub mod space;
pub mod supernet;

pub use ops::OpKind;
pub use space::{Architecture, Genotype, SearchSpace};
