//! The simulation engine behind backtests and paper trading: a tape of market events in, the
//! strategy's orders matched against it with a chosen fill model, fills out.
pub mod binance_csv;
pub mod data_error;
pub mod engine;
pub mod recording;
pub mod synth;
pub mod tape;
