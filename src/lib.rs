//! Marginalia: annotate question-and-answer transcripts.
//!
//! The core (transcripts, codebook, sidecars, corpus, CLI) never depends on the GUI toolkit; the
//! app lives in [`ui`], behind the default cargo feature `gui`.

pub mod agreement;
pub mod analysis;
pub mod anchor;
pub mod annotation;
pub mod cli;
pub mod codebook;
pub mod codebook_edit;
pub mod contrast;
pub mod corpus;
pub mod dataset;
pub mod document;
pub mod export;
mod fasthash;
pub mod fsutil;
pub mod generate;
pub mod highlights;
pub mod interop;
pub mod journal;
pub mod limits;
pub mod names;
pub mod ordered;
pub mod review;
pub mod ronfmt;
pub mod sample;
pub mod search;
pub mod shortcut;
pub mod sidecar;
#[cfg(test)]
mod testing;
pub mod transcript;

#[cfg(feature = "gui")]
pub mod ui;
