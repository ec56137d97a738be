//! Server-function arguments that could not be decoded (a missing field, text where a number belongs, a body in
//! another encoding): the caller's mistake, so every server function answers it as a field error (400) naming the
//! field. `core::error` turns [`ServerFnErrorErr`] into its variants through [`argument_error`].

use leptos::server_fn::error::ServerFnErrorErr;

use crate::core::i18n::Text;
use crate::text;

/// What was wrong with the arguments of a server-function call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgumentError {
    /// The argument that is missing or unreadable, when the decoder named it.
    pub field: Option<String>,
    /// What is wrong.
    pub message: Text,
}

/// The argument error in `error`, if it is one.
pub fn argument_error(error: &ServerFnErrorErr) -> Option<ArgumentError> {
    let text = match error {
        ServerFnErrorErr::Args(text) | ServerFnErrorErr::Deserialization(text) => text.as_str(),
        ServerFnErrorErr::MissingArg(name) => {
            return Some(ArgumentError {
                field: Some(name.clone()),
                message: text!(core.field.required),
            });
        }
        _ => return None,
    };
    Some(parse(text))
}

/// Reads the decoder's message (serde's wording): `missing field `x``, or a type error that may name the field.
fn parse(text: &str) -> ArgumentError {
    let quoted = |after: &str| {
        text.split_once(after)
            .and_then(|(_, rest)| rest.split_once('`'))
            .map(|(name, _)| name.to_string())
    };
    if let Some(field) = quoted("missing field `") {
        return ArgumentError {
            field: Some(field),
            message: text!(core.field.required),
        };
    }
    let field = quoted("field `").or_else(|| quoted("for key `"));
    ArgumentError {
        field,
        message: text!(core.field.wrong_type),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_missing_field() {
        let e = argument_error(&ServerFnErrorErr::Args("missing field `password`".into())).unwrap();
        assert_eq!(e.field.as_deref(), Some("password"));
        assert_eq!(e.message, "This field is required.");
    }

    #[test]
    fn other_decoding_failures_are_argument_errors_too() {
        let e = argument_error(&ServerFnErrorErr::Args("invalid digit found in string".into())).unwrap();
        assert_eq!(e.field, None);
        assert!(argument_error(&ServerFnErrorErr::Request("connection reset".into())).is_none());
        assert!(argument_error(&ServerFnErrorErr::ServerError("boom".into())).is_none());
    }
}
