//! Inter-coder agreement: reliability coefficients ([`stats`]) and the reliability data of a corpus
//! ([`corpus`]).

pub mod corpus;
pub mod stats;
