//! SMTP_CHECK's conversation, sans-IO (keepalived 2.2.7 `check_smtp.c`):
//! read the greeting, which must be 220; send `HELO name`, whose reply must
//! be 250; send `QUIT` and wait for any reply line. Replies are read a line
//! at a time, and only the first line counts: a multi-line reply (`220-`)
//! fails, as it does in keepalived.

use alloc::format;
use alloc::vec::Vec;

use crate::probe::FailReason;

/// keepalived's `SMTP_BUFF_MAX`: a reply line longer than this fails.
pub const MAX_LINE: usize = 512;

/// What the conversation wants next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Read more bytes.
    Read,
    /// Send these bytes, then read.
    Send(Vec<u8>),
    /// Finished with this verdict.
    Done(Result<(), FailReason>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Greeting,
    Helo,
    Quit,
    Over,
}

/// One SMTP_CHECK conversation.
#[derive(Debug, Clone)]
pub struct Dialog {
    helo: Vec<u8>,
    state: State,
    line: Vec<u8>,
}

impl Dialog {
    /// A conversation that will introduce itself as `helo_name`.
    pub fn new(helo_name: &str) -> Dialog {
        Dialog {
            helo: format!("HELO {helo_name}\r\n").into_bytes(),
            state: State::Greeting,
            line: Vec::new(),
        }
    }

    /// Bytes received from the server.
    pub fn feed(&mut self, mut data: &[u8]) -> Step {
        while !data.is_empty() && self.state != State::Over {
            let Some(nl) = data.iter().position(|&b| b == b'\n') else {
                self.line.extend_from_slice(data);
                if self.line.len() > MAX_LINE {
                    return self.finish(Err(FailReason::SmtpLineTooLong));
                }
                return Step::Read;
            };
            self.line.extend_from_slice(&data[..nl]);
            data = &data[nl + 1..];
            if self.line.len() > MAX_LINE {
                return self.finish(Err(FailReason::SmtpLineTooLong));
            }
            let code = reply_code(&self.line);
            self.line.clear();
            match self.state {
                State::Greeting if code == Some(220) => {
                    self.state = State::Helo;
                    return Step::Send(self.helo.clone());
                }
                State::Greeting => {
                    return self.finish(Err(FailReason::SmtpGreeting(code.unwrap_or(0))))
                }
                State::Helo if code == Some(250) => {
                    self.state = State::Quit;
                    return Step::Send(b"QUIT\r\n".to_vec());
                }
                State::Helo => return self.finish(Err(FailReason::SmtpHelo(code.unwrap_or(0)))),
                // Any answer to QUIT will do.
                State::Quit => return self.finish(Ok(())),
                State::Over => {}
            }
        }
        Step::Read
    }

    /// The server closed the connection: before the QUIT reply, a failure
    /// (keepalived's "Read failure").
    pub fn closed(&mut self) -> Step {
        self.finish(Err(FailReason::Reset))
    }

    fn finish(&mut self, v: Result<(), FailReason>) -> Step {
        self.state = State::Over;
        Step::Done(v)
    }
}

/// The reply code of one line (without its `\n`): exactly three digits,
/// then a space or the end of the line (a trailing `\r` is taken as the end,
/// where keepalived's `strtoul` test would refuse a bare `220\r`).
pub fn reply_code(line: &[u8]) -> Option<u16> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let digits = line.get(..3)?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    match line.get(3) {
        None | Some(b' ') => {}
        Some(_) => return None,
    }
    Some(
        digits
            .iter()
            .fold(0u16, |a, d| a * 10 + u16::from(d - b'0')),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_need_three_digits_then_a_space_or_the_end() {
        assert_eq!(reply_code(b"220 mail.example ESMTP\r"), Some(220));
        assert_eq!(reply_code(b"250"), Some(250));
        assert_eq!(reply_code(b"220-first line"), None);
        assert_eq!(reply_code(b"22 short"), None);
        assert_eq!(reply_code(b"2200 long"), None);
        assert_eq!(reply_code(b""), None);
    }

    #[test]
    fn a_whole_conversation_in_pieces() {
        let mut d = Dialog::new("me.example");
        assert_eq!(d.feed(b"220 hi"), Step::Read);
        assert_eq!(d.feed(b"\r\n"), Step::Send(b"HELO me.example\r\n".to_vec()));
        assert_eq!(d.feed(b"250 ok\r\n"), Step::Send(b"QUIT\r\n".to_vec()));
        assert_eq!(d.feed(b"221 bye\r\n"), Step::Done(Ok(())));
    }

    #[test]
    fn bad_replies_fail_with_their_code() {
        let mut d = Dialog::new("x");
        assert_eq!(
            d.feed(b"554 go away\r\n"),
            Step::Done(Err(FailReason::SmtpGreeting(554)))
        );
        let mut d = Dialog::new("x");
        d.feed(b"220 hi\r\n");
        assert_eq!(
            d.feed(b"501 no\r\n"),
            Step::Done(Err(FailReason::SmtpHelo(501)))
        );
        let mut d = Dialog::new("x");
        assert_eq!(
            d.feed(b"220-multi\r\n220 line\r\n"),
            Step::Done(Err(FailReason::SmtpGreeting(0)))
        );
        let mut d = Dialog::new("x");
        d.feed(b"220 hi\r\n");
        d.feed(b"250 ok\r\n");
        assert_eq!(d.closed(), Step::Done(Err(FailReason::Reset)));
        let mut d = Dialog::new("x");
        assert_eq!(
            d.feed(&[b'2'; MAX_LINE + 1]),
            Step::Done(Err(FailReason::SmtpLineTooLong))
        );
    }
}
