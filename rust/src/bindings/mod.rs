//! The `PyO3` layer: thin classes over the pure Rust core, and the one error mapping.
pub mod book;
pub mod decimal;
pub mod errors;
pub mod events;
pub mod input;
pub mod oauth;
pub mod readers;
pub mod sign;
pub mod sim;
pub mod synth;
