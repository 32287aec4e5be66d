//! The built-in search spaces, one folder each: the space, its genotype text, its
//! supernet, its evaluation network, the export in the reference code's names, and the
//! glue that lets a search train and score it ([`crate::scoring::SupernetSpace`]).
//!
//! - [`darts`]: the DARTS cell space (and end-to-end TND cells of any in-degree).
//! - [`nb201`]: the NAS-Bench-201 cell space (15,625 cells).
//! - [`mbconv`]: the MBConv chain on the MobileNetV2 backbone (ProxylessNAS / FBNet style).
//!
//! A space of your own needs no folder here: implement [`crate::SearchSpace`] and
//! [`crate::scoring::SupernetSpace`] in your crate (`docs/writing-a-search-space.md`). A
//! new built-in space is one folder like these and one line below.

pub mod darts;
pub mod mbconv;
pub mod nb201;
