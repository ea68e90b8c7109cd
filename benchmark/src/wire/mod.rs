//! `benchmark wire`: one annotated exchange per protocol.
pub mod annotate;
