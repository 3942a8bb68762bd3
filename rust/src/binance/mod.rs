//! Binance wire formats: a forward-only JSON reader and the message types built on it.
pub mod events;
pub mod fields;
pub mod json;
