//! The one place Rust errors become Python exceptions. The classes live in `tradewire.errors`.
//!
//! [`CoreError::python_class`] decides the class of every variant (pure Rust, pinned by the unit
//! test below); the `From<CoreError> for PyErr` impl only adds each class's constructor arguments.

use pyo3::exceptions::PyTypeError;
use pyo3::PyErr;

use crate::binance::json::ParseError;
use crate::book::BookError;
use crate::decimal::DecError;
use crate::oauth::OAuthError;
use crate::sign::KeyError;
use crate::sim::data_error::DataError;
use crate::sim::engine::SubmitError;
use crate::sim::synth::SynthError;

/// Declares the `tradewire.errors` classes the core raises: each is imported on first use and
/// named by one [`PyClass`] variant, so the name and the imported class cannot drift apart.
macro_rules! python_classes {
    ($($name:ident),+ $(,)?) => {
        mod exc {
            $(pyo3::import_exception!(tradewire.errors, $name);)+
        }

        /// A `tradewire.errors` class the core raises.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum PyClass {
            $($name),+
        }

        impl PyClass {
            /// The class's name in `tradewire.errors`.
            #[must_use]
            pub fn name(self) -> &'static str {
                match self {
                    $(PyClass::$name => stringify!($name)),+
                }
            }

            /// A new exception of this class, built lazily from `args`.
            fn new_err<A>(self, args: A) -> PyErr
            where
                A: pyo3::PyErrArguments + Send + Sync + 'static,
            {
                match self {
                    $(PyClass::$name => exc::$name::new_err(args)),+
                }
            }
        }
    };
}

python_classes!(
    ParseError,
    InvalidKey,
    DecimalError,
    SequenceGap,
    BookNotSynced,
    BookError,
    SymbolMismatch,
    BacktestError,
    DataError,
    IBAuthError,
);

/// Errors of the core, each mapped to one `tradewire.errors` class.
#[derive(Debug)]
pub enum CoreError {
    Parse(ParseError),
    Key(KeyError),
    Decimal(DecError),
    Book(BookError),
    Submit(SubmitError),
    Data(Box<DataError>),
    Synth(SynthError),
    OAuth(OAuthError),
}

impl CoreError {
    /// The `tradewire.errors` class this error is raised as: the one mapping.
    #[must_use]
    pub fn python_class(&self) -> PyClass {
        match self {
            CoreError::Parse(_) => PyClass::ParseError,
            CoreError::Key(_) => PyClass::InvalidKey,
            CoreError::Decimal(_) => PyClass::DecimalError,
            CoreError::Submit(_) | CoreError::Synth(_) => PyClass::BacktestError,
            CoreError::Book(b) => match b {
                BookError::Gap { .. } => PyClass::SequenceGap,
                BookError::NotSynced => PyClass::BookNotSynced,
                BookError::Crossed => PyClass::BookError,
                BookError::SymbolMismatch { .. } => PyClass::SymbolMismatch,
            },
            CoreError::Data(_) => PyClass::DataError,
            CoreError::OAuth(_) => PyClass::IBAuthError,
        }
    }
}

impl std::fmt::Display for CoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CoreError::Parse(e) => e.fmt(f),
            CoreError::Key(e) => e.fmt(f),
            CoreError::Decimal(e) => e.fmt(f),
            CoreError::Book(e) => e.fmt(f),
            CoreError::Submit(e) => e.fmt(f),
            CoreError::Data(e) => e.fmt(f),
            CoreError::Synth(e) => e.fmt(f),
            CoreError::OAuth(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for CoreError {}

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
impl From<SubmitError> for CoreError {
    fn from(e: SubmitError) -> Self {
        CoreError::Submit(e)
    }
}
impl From<BookError> for CoreError {
    fn from(e: BookError) -> Self {
        CoreError::Book(e)
    }
}

impl From<OAuthError> for CoreError {
    fn from(e: OAuthError) -> Self {
        CoreError::OAuth(e)
    }
}

impl From<SynthError> for CoreError {
    fn from(e: SynthError) -> Self {
        CoreError::Synth(e)
    }
}

impl From<Box<DataError>> for CoreError {
    fn from(e: Box<DataError>) -> Self {
        CoreError::Data(e)
    }
}

impl From<CoreError> for PyErr {
    #[cold]
    fn from(e: CoreError) -> PyErr {
        let class = e.python_class();
        let message = e.to_string();
        match e {
            // ParseError(message, field, offset)
            CoreError::Parse(p) => class.new_err((message, p.field.into_owned(), p.offset)),
            // SequenceGap(message, expected, got)
            CoreError::Book(BookError::Gap { expected, got }) => {
                class.new_err((message, expected, got))
            }
            CoreError::Key(_)
            | CoreError::Decimal(_)
            | CoreError::Book(_)
            | CoreError::Submit(_)
            | CoreError::Synth(_)
            | CoreError::OAuth(_) => class.new_err(message),
            // DataError(message, path, line, column)
            CoreError::Data(d) => {
                let path = (!d.source.is_empty()).then(|| d.source.clone());
                class.new_err((message, path, d.line, d.column.into_owned()))
            }
        }
    }
}

pub type CoreResult<T> = Result<T, CoreError>;

/// A `TypeError` for an argument of the wrong type.
#[cold]
pub fn type_error(msg: impl Into<String>) -> PyErr {
    PyTypeError::new_err(msg.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binance::json::error;

    /// The Python side of the mapping, read from the file users read.
    const ERRORS_PY: &str = include_str!("../../../python/tradewire/errors.py");

    /// One error of every variant (and sub-variant) with the class it must raise.
    fn every_variant() -> Vec<(CoreError, &'static str)> {
        let key_errors = [
            KeyError::Empty,
            KeyError::Whitespace,
            KeyError::MalformedPem("no END line"),
            KeyError::Encrypted,
            KeyError::PublicKeyGiven,
            KeyError::PrivateKeyGiven,
            KeyError::UnsupportedPem("CERTIFICATE".into()),
            KeyError::UnsupportedAlgorithm,
            KeyError::InvalidKey("bad length"),
        ];
        let dec_errors = [
            DecError::Empty,
            DecError::InvalidChar(3),
            DecError::TooPrecise,
            DecError::Overflow,
            DecError::Inexact,
            DecError::DivisionByZero,
            DecError::NonPositiveStep,
        ];
        let mut all = vec![
            (
                CoreError::Parse(error("missing field", "q", 0)),
                "ParseError",
            ),
            (
                CoreError::Book(BookError::Gap {
                    expected: 161,
                    got: 170,
                }),
                "SequenceGap",
            ),
            (CoreError::Book(BookError::NotSynced), "BookNotSynced"),
            (CoreError::Book(BookError::Crossed), "BookError"),
            (
                CoreError::Book(BookError::SymbolMismatch {
                    expected: "BTCUSDT".into(),
                    got: "ETHUSDT".into(),
                }),
                "SymbolMismatch",
            ),
            (
                CoreError::Data(DataError::new("f.csv", 3, "price", "not a decimal")),
                "DataError",
            ),
        ];
        all.extend(key_errors.map(|k| (CoreError::Key(k), "InvalidKey")));
        all.extend(dec_errors.map(|d| (CoreError::Decimal(d), "DecimalError")));
        all.extend(
            [
                SubmitError::DuplicateId,
                SubmitError::NonPositiveQuantity,
                SubmitError::NonPositivePrice,
                SubmitError::NoLimitPrice,
                SubmitError::TimeBackwards,
            ]
            .map(|e| (CoreError::Submit(e), "BacktestError")),
        );
        all.push((
            CoreError::Synth(SynthError::Setting("vol", "positive")),
            "BacktestError",
        ));
        all.extend(
            [
                OAuthError::BadToken,
                OAuthError::BadHeaderValue("nonce"),
                OAuthError::BadMethod,
                OAuthError::BadUrl,
            ]
            .map(|e| (CoreError::OAuth(e), "IBAuthError")),
        );
        all
    }

    /// Fails to compile when a variant is added, so `every_variant` cannot silently miss it.
    #[allow(dead_code)]
    fn exhaustive(e: &CoreError) {
        match e {
            CoreError::Parse(_)
            | CoreError::Submit(
                SubmitError::DuplicateId
                | SubmitError::NonPositiveQuantity
                | SubmitError::NonPositivePrice
                | SubmitError::NoLimitPrice
                | SubmitError::TimeBackwards,
            )
            | CoreError::Key(
                KeyError::Empty
                | KeyError::Whitespace
                | KeyError::MalformedPem(_)
                | KeyError::Encrypted
                | KeyError::PublicKeyGiven
                | KeyError::PrivateKeyGiven
                | KeyError::UnsupportedPem(_)
                | KeyError::UnsupportedAlgorithm
                | KeyError::InvalidKey(_),
            )
            | CoreError::Decimal(
                DecError::Empty
                | DecError::InvalidChar(_)
                | DecError::TooPrecise
                | DecError::Overflow
                | DecError::Inexact
                | DecError::DivisionByZero
                | DecError::NonPositiveStep,
            )
            | CoreError::Book(
                BookError::Gap { .. }
                | BookError::NotSynced
                | BookError::Crossed
                | BookError::SymbolMismatch { .. },
            )
            | CoreError::Data(_)
            | CoreError::Synth(SynthError::Setting(..))
            | CoreError::OAuth(
                OAuthError::BadToken
                | OAuthError::BadHeaderValue(_)
                | OAuthError::BadMethod
                | OAuthError::BadUrl,
            ) => {}
        }
    }

    /// The source of `class <name>(...)` in errors.py, up to the next top-level definition.
    fn python_class_source(name: &str) -> &'static str {
        let head = format!("\nclass {name}(");
        let start = ERRORS_PY
            .find(&head)
            .unwrap_or_else(|| panic!("tradewire/errors.py has no class {name}"));
        let body = &ERRORS_PY[start + 1..];
        let end = body[1..].find("\nclass ").map_or(body.len(), |i| i + 1);
        &body[..end]
    }

    #[test]
    fn every_variant_maps_to_its_python_class() {
        for (e, want) in every_variant() {
            assert_eq!(e.python_class().name(), want, "{e:?}");
        }
    }

    #[test]
    fn every_class_exists_in_errors_py() {
        for (_, name) in every_variant() {
            python_class_source(name);
        }
    }

    #[test]
    fn constructor_arguments_match_the_python_signatures() {
        // The From impl passes (message, field, offset) and (message, expected, got).
        assert!(python_class_source("ParseError")
            .contains("def __init__(self, message: str, field: str | None = None, offset: int"));
        assert!(python_class_source("SequenceGap")
            .contains("def __init__(self, message: str, expected: int | None = None, got: int"));
        let data = python_class_source("DataError").replace(char::is_whitespace, "");
        assert!(data.contains(
            "def__init__(self,message:str,path:str|None=None,line:int|None=None,column:str|None"
        ));
    }

    #[test]
    fn messages_are_the_domain_errors_own() {
        for (e, _) in every_variant() {
            let inner = match &e {
                CoreError::Parse(p) => p.to_string(),
                CoreError::Key(k) => k.to_string(),
                CoreError::Decimal(d) => d.to_string(),
                CoreError::Book(b) => b.to_string(),
                CoreError::Submit(s) => s.to_string(),
                CoreError::Data(d) => d.to_string(),
                CoreError::Synth(e) => e.to_string(),
                CoreError::OAuth(e) => e.to_string(),
            };
            assert_eq!(e.to_string(), inner);
            assert!(!inner.is_empty());
        }
    }
}
