//! The control protocol: the client sends one request line, the daemon
//! answers with a body and closes the connection (EOF ends the reply).
//!
//! ```text
//! client: "status\n" | "status json\n"
//! daemon: <body> EOF           (or "error: <reason>\n" EOF)
//! ```
//!
//! A plain line protocol keeps `socat - UNIX:/run/vigil.sock` usable by hand.

use core::fmt;

/// Longest request line accepted, newline included; a client that sends
/// more without a newline is rejected.
pub const MAX_REQUEST_LEN: usize = 256;

/// Prefix of a reply that reports a rejected request instead of a body.
pub const ERROR_PREFIX: &str = "error: ";

/// What a client asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// The instances' state: human text, or JSON with `json`.
    Status { json: bool },
}

/// Why a request line was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestError {
    /// Nothing but whitespace before the newline or EOF.
    Empty,
    /// The line is not UTF-8.
    NotUtf8,
    /// No newline within [`MAX_REQUEST_LEN`] bytes.
    TooLong,
    /// The first word is not a known command.
    UnknownCommand(String),
    /// A known command with an argument it does not take.
    UnknownArgument(String),
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::Empty => f.write_str("empty request"),
            RequestError::NotUtf8 => f.write_str("request is not UTF-8"),
            RequestError::TooLong => {
                write!(f, "request longer than {MAX_REQUEST_LEN} bytes")
            }
            RequestError::UnknownCommand(c) => {
                write!(f, "unknown command {c:?} (expected \"status\")")
            }
            RequestError::UnknownArgument(a) => {
                write!(f, "unknown argument {a:?} (expected \"json\" or nothing)")
            }
        }
    }
}

impl std::error::Error for RequestError {}

impl Request {
    /// Parse one request line (bytes up to, and maybe including, the newline).
    pub fn parse(line: &[u8]) -> Result<Request, RequestError> {
        if line.len() > MAX_REQUEST_LEN {
            return Err(RequestError::TooLong);
        }
        let line = core::str::from_utf8(line).map_err(|_| RequestError::NotUtf8)?;
        let mut words = line.split_ascii_whitespace();
        let command = words.next().ok_or(RequestError::Empty)?;
        if command != "status" {
            return Err(RequestError::UnknownCommand(shorten(command)));
        }
        match (words.next(), words.next()) {
            (None, _) => Ok(Request::Status { json: false }),
            (Some("json"), None) => Ok(Request::Status { json: true }),
            (Some("json"), Some(extra)) | (Some(extra), _) => {
                Err(RequestError::UnknownArgument(shorten(extra)))
            }
        }
    }

    /// The request line a client sends, newline included.
    pub fn line(&self) -> &'static str {
        match self {
            Request::Status { json: false } => "status\n",
            Request::Status { json: true } => "status json\n",
        }
    }
}

/// At most 32 characters of client input, for error messages and logs.
fn shorten(word: &str) -> String {
    word.chars().take(32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip() {
        for r in [
            Request::Status { json: false },
            Request::Status { json: true },
        ] {
            assert_eq!(Request::parse(r.line().as_bytes()), Ok(r));
        }
    }

    #[test]
    fn whitespace_and_missing_newline_are_tolerated() {
        assert_eq!(
            Request::parse(b"  status \t json\r\n"),
            Ok(Request::Status { json: true })
        );
        assert_eq!(
            Request::parse(b"status"),
            Ok(Request::Status { json: false })
        );
    }

    #[test]
    fn each_refusal_has_its_reason() {
        assert_eq!(Request::parse(b" \n"), Err(RequestError::Empty));
        assert_eq!(Request::parse(b"\xff\n"), Err(RequestError::NotUtf8));
        assert_eq!(
            Request::parse(&[b'a'; MAX_REQUEST_LEN + 1]),
            Err(RequestError::TooLong)
        );
        assert_eq!(
            Request::parse(b"stop\n"),
            Err(RequestError::UnknownCommand("stop".into()))
        );
        assert_eq!(
            Request::parse(b"status xml\n"),
            Err(RequestError::UnknownArgument("xml".into()))
        );
        assert_eq!(
            Request::parse(b"status json now\n"),
            Err(RequestError::UnknownArgument("now".into()))
        );
    }

    #[test]
    fn echoed_input_is_bounded() {
        let long = "x".repeat(200);
        match Request::parse(long.as_bytes()) {
            Err(RequestError::UnknownCommand(c)) => assert_eq!(c.len(), 32),
            other => panic!("{other:?}"),
        }
    }
}
