//! The one error type of the safe API. Its kind maps 1:1 onto the C status codes.

use std::borrow::Cow;
use std::fmt;

/// What went wrong, in the classes the C ABI reports (see `MstStatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// A non-blocking call found nothing to do now.
    Again,
    /// A blocking call's timeout passed.
    Timeout,
    /// The stream or track has ended (the spec's "done").
    Ended,
    /// A wakeup interrupted a blocking call.
    Interrupted,
    /// A required pointer was NULL (C only).
    NullArg,
    /// An argument is out of its domain (WebCodecs' TypeError for bad init dictionaries).
    InvalidArg,
    /// The spec's TypeError where it is about the kind of object (wrong kind of frame).
    Type,
    /// The object is in a state that forbids the call (closed frame, closed writable).
    InvalidState,
    /// WebCodecs' RangeError: offsets, counts or buffer sizes out of range.
    Range,
    NoDevice,
    Busy,
    Io,
    /// The spec's OverconstrainedError; `Error::constraint` names the property.
    Overconstrained,
    Unsupported,
    NoMemory,
    /// A panic inside the library was caught at the boundary.
    Panic,
}

/// An error with a human-readable reason.
#[derive(Clone, Debug, PartialEq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: Cow<'static, str>,
    /// For `Overconstrained`: the constrainable property that could not be satisfied.
    pub constraint: Option<&'static str>,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Error { kind, message: message.into(), constraint: None }
    }

    /// The error for a caught panic, carrying the panic's message.
    pub fn from_panic(payload: Box<dyn std::any::Any + Send>) -> Self {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Error::new(ErrorKind::Panic, format!("internal error (please report): {what}"))
    }

    pub fn overconstrained(constraint: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Error { kind: ErrorKind::Overconstrained, message: message.into(), constraint: Some(constraint) }
    }
}

/// `err!(Kind, "format {}", args)` builds an `Error`.
macro_rules! err {
    ($kind:ident, $msg:literal) => {{
        // A message without arguments stays a static string: no allocation on flow errors.
        let args = format_args!($msg);
        match args.as_str() {
            Some(s) => $crate::error::Error::new($crate::error::ErrorKind::$kind, s),
            None => $crate::error::Error::new($crate::error::ErrorKind::$kind, args.to_string()),
        }
    }};
    ($kind:ident, $($fmt:tt)+) => {
        $crate::error::Error::new($crate::error::ErrorKind::$kind, format!($($fmt)+))
    };
}
pub(crate) use err;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.message)
    }
}

impl std::error::Error for Error {}
