//! The one place Rust errors become Python exceptions. The classes live in `tradewire.errors`.

use pyo3::exceptions::PyTypeError;
use pyo3::PyErr;

use crate::binance::json::ParseError;
use crate::book::BookError;
use crate::decimal::DecError;
use crate::sign::KeyError;

/// The Python classes, imported from `tradewire.errors` on first use.
mod exc {
    pyo3::import_exception!(tradewire.errors, ParseError);
    pyo3::import_exception!(tradewire.errors, InvalidKey);
    pyo3::import_exception!(tradewire.errors, DecimalError);
    pyo3::import_exception!(tradewire.errors, SequenceGap);
    pyo3::import_exception!(tradewire.errors, BookNotSynced);
    pyo3::import_exception!(tradewire.errors, BookError);
    pyo3::import_exception!(tradewire.errors, SymbolMismatch);
}

/// Errors of the core, each mapped to one `tradewire.errors` class.
#[derive(Debug)]
pub enum CoreError {
    Parse(ParseError),
    Key(KeyError),
    Decimal(DecError),
    Book(BookError),
}

impl From<ParseError> for CoreError {
    fn from(e: ParseError) -> Self {
        CoreError::Parse(e)
    }
}
impl From<KeyError> for CoreError {
    fn from(e: KeyError) -> Self {
        CoreError::Key(e)
    }
}
impl From<DecError> for CoreError {
    fn from(e: DecError) -> Self {
        CoreError::Decimal(e)
    }
}
impl From<BookError> for CoreError {
    fn from(e: BookError) -> Self {
        CoreError::Book(e)
    }
}

impl From<CoreError> for PyErr {
    #[cold]
    fn from(e: CoreError) -> PyErr {
        match e {
            CoreError::Parse(p) => {
                exc::ParseError::new_err((p.to_string(), p.field.into_owned(), p.offset))
            }
            CoreError::Key(k) => exc::InvalidKey::new_err(k.to_string()),
            CoreError::Decimal(d) => exc::DecimalError::new_err(d.to_string()),
            CoreError::Book(b) => match b {
                BookError::Gap { expected, got } => {
                    exc::SequenceGap::new_err((b.to_string(), expected, got))
                }
                BookError::NotSynced => exc::BookNotSynced::new_err(b.to_string()),
                BookError::Crossed => exc::BookError::new_err(b.to_string()),
                BookError::SymbolMismatch { .. } => exc::SymbolMismatch::new_err(b.to_string()),
            },
        }
    }
}

pub type CoreResult<T> = Result<T, CoreError>;

/// A `TypeError` for an argument of the wrong type.
#[cold]
pub fn type_error(msg: impl Into<String>) -> PyErr {
    PyTypeError::new_err(msg.into())
}
