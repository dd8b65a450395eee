//! The client side of keepalived's SMTP dialogue (smtp.c) as a state
//! machine: the shell connects, feeds every byte the server sends to
//! [`Dialog::feed`], and writes what it is told to; it also owns the
//! per-step timeout. Stages and expected codes are keepalived's: greeting
//! 220, `HELO` 250, `MAIL FROM` 250, one `RCPT TO` per recipient 250 each,
//! `DATA` 354, the message 250, `QUIT` 221. A wrong code ends the mail
//! (keepalived then sends `QUIT`; so does the shell).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::mail::Envelope;

/// keepalived's receive buffer: a reply longer than this is refused.
pub const MAX_REPLY: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Greeting,
    Helo,
    Mail,
    Rcpt(usize),
    Data,
    Body,
    Quit,
    Done,
}

impl Stage {
    fn expected(self) -> u16 {
        match self {
            Stage::Greeting => 220,
            Stage::Data => 354,
            Stage::Quit => 221,
            _ => 250,
        }
    }

    /// keepalived's name of the step in its log line.
    fn name(self) -> &'static str {
        match self {
            Stage::Greeting => "(E)SMTP",
            Stage::Helo => "HELO",
            Stage::Mail => "MAIL",
            Stage::Rcpt(_) => "RCPT",
            Stage::Data => "DATA",
            Stage::Body => "BODY",
            Stage::Quit => "QUIT",
            Stage::Done => "END",
        }
    }
}

/// Why a mail was not delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The server answered a step with another code.
    Refused { step: &'static str, code: u16 },
    /// A reply line that does not start with three digits.
    Garbled { step: &'static str },
    /// More than [`MAX_REPLY`] bytes without a complete reply.
    Overflow { step: &'static str },
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Refused { step, code } => {
                write!(f, "error processing {step} cmd, SMTP status code = {code}")
            }
            Failure::Garbled { step } => write!(f, "unreadable reply to {step}"),
            Failure::Overflow { step } => {
                write!(f, "reply to {step} longer than {MAX_REPLY} bytes")
            }
        }
    }
}

/// What to do after feeding bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// No complete reply yet: read more (within the step's timeout).
    Wait,
    /// Write this, then read the next reply.
    Send(String),
    /// The mail was accepted; write `QUIT` and close (keepalived waits for
    /// the 221; nothing depends on it).
    Sent(String),
    /// The dialogue failed; write `QUIT` (best effort) and close.
    Failed(Failure, String),
}

/// One mail's dialogue.
#[derive(Debug, Clone)]
pub struct Dialog {
    envelope: Envelope,
    data: String,
    stage: Stage,
    buf: Vec<u8>,
}

const QUIT: &str = "QUIT\r\n";

impl Dialog {
    /// `data` is [`Envelope::data`] of the mail.
    pub fn new(envelope: Envelope, data: String) -> Dialog {
        Dialog {
            envelope,
            data,
            stage: Stage::Greeting,
            buf: Vec::new(),
        }
    }

    /// The step waiting for its reply, named as keepalived logs it.
    pub fn step(&self) -> &'static str {
        self.stage.name()
    }

    /// Feeds bytes from the server; every complete reply moves one step.
    pub fn feed(&mut self, bytes: &[u8]) -> Step {
        self.buf.extend_from_slice(bytes);
        let Some(code) = self.take_reply() else {
            if self.buf.len() >= MAX_REPLY {
                return Step::Failed(Failure::Overflow { step: self.step() }, QUIT.into());
            }
            return Step::Wait;
        };
        let code = match code {
            Ok(c) => c,
            Err(()) => return Step::Failed(Failure::Garbled { step: self.step() }, QUIT.into()),
        };
        let stage = self.stage;
        if code != stage.expected() {
            self.stage = Stage::Done;
            return Step::Failed(
                Failure::Refused {
                    step: stage.name(),
                    code,
                },
                QUIT.into(),
            );
        }
        let to = &self.envelope.to;
        let (next, out) = match stage {
            Stage::Greeting => (Stage::Helo, format!("HELO {}\r\n", self.envelope.helo)),
            Stage::Helo => (
                Stage::Mail,
                format!("MAIL FROM:<{}>\r\n", self.envelope.from),
            ),
            Stage::Mail | Stage::Rcpt(_) => {
                let i = match stage {
                    Stage::Rcpt(i) => i + 1,
                    _ => 0,
                };
                match to.get(i) {
                    Some(a) => (Stage::Rcpt(i), format!("RCPT TO:<{a}>\r\n")),
                    None => (Stage::Data, String::from("DATA\r\n")),
                }
            }
            Stage::Data => (Stage::Body, core::mem::take(&mut self.data)),
            Stage::Body => {
                self.stage = Stage::Quit;
                return Step::Sent(QUIT.into());
            }
            Stage::Quit | Stage::Done => {
                self.stage = Stage::Done;
                return Step::Wait;
            }
        };
        self.stage = next;
        Step::Send(out)
    }

    /// The code of the next complete reply (the last line of a multi-line
    /// one: `250-...` lines are skipped), removing it from the buffer;
    /// `None` if no reply is complete yet.
    fn take_reply(&mut self) -> Option<Result<u16, ()>> {
        let mut start = 0;
        loop {
            let rest = self.buf.get(start..)?;
            let end = rest.windows(2).position(|w| w == b"\r\n")?;
            let line = rest.get(..end)?;
            let next = start + end + 2;
            if line.get(3) == Some(&b'-') {
                start = next;
                continue;
            }
            let code = match line.get(..3) {
                Some(d) if d.iter().all(u8::is_ascii_digit) => {
                    Ok(d.iter().fold(0u16, |n, c| n * 10 + u16::from(c - b'0')))
                }
                _ => Err(()),
            };
            self.buf.drain(..next);
            return Some(code);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    fn dialog(to: &[&str]) -> Dialog {
        let e = Envelope {
            helo: "r1".into(),
            from: "root@r1".into(),
            to: to.iter().map(|s| String::from(*s)).collect(),
        };
        Dialog::new(e, "DATA-BLOCK".into())
    }

    #[test]
    fn whole_dialogue_two_recipients() {
        let mut d = dialog(&["a@x", "b@y"]);
        let mut sent = vec![];
        for reply in [
            "220-mx ESMTP\r\n220 ready\r\n",
            "250 hi\r\n",
            "250 ok\r\n",
            "250 ok\r\n",
            "250 ok\r\n",
            "354 go\r\n",
        ] {
            match d.feed(reply.as_bytes()) {
                Step::Send(s) => sent.push(s),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(
            sent,
            [
                "HELO r1\r\n",
                "MAIL FROM:<root@r1>\r\n",
                "RCPT TO:<a@x>\r\n",
                "RCPT TO:<b@y>\r\n",
                "DATA\r\n",
                "DATA-BLOCK"
            ]
        );
        assert_eq!(d.feed(b"250 queued\r\n"), Step::Sent("QUIT\r\n".into()));
    }

    #[test]
    fn split_replies_and_refusals() {
        let mut d = dialog(&["a@x"]);
        assert_eq!(d.feed(b"22"), Step::Wait);
        assert_eq!(d.feed(b"0 hi\r"), Step::Wait);
        assert_eq!(d.feed(b"\n"), Step::Send("HELO r1\r\n".into()));
        assert_eq!(d.step(), "HELO");
        match d.feed(b"554 go away\r\n") {
            Step::Failed(f, q) => {
                assert_eq!(
                    f,
                    Failure::Refused {
                        step: "HELO",
                        code: 554
                    }
                );
                assert_eq!(
                    f.to_string(),
                    "error processing HELO cmd, SMTP status code = 554"
                );
                assert_eq!(q, "QUIT\r\n");
            }
            other => panic!("{other:?}"),
        }
        let mut d = dialog(&["a@x"]);
        assert!(matches!(
            d.feed(b"hello\r\n"),
            Step::Failed(Failure::Garbled { .. }, _)
        ));
        let mut d = dialog(&["a@x"]);
        assert!(matches!(
            d.feed(&[b'2'; 2000]),
            Step::Failed(Failure::Overflow { .. }, _)
        ));
    }
}
