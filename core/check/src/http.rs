//! HTTP_GET, the pure half: keepalived's request bytes and an incremental
//! judge of the response (status, then the body's MD5), fed as bytes arrive.
//!
//! keepalived reads the whole response until the server closes, then judges:
//! no `\r\n\r\n` means failure, the status is the 3 digits between the first
//! two spaces of the first line, and the digest covers the bytes after the
//! header end, cut at `Content-Length:` (case-sensitive, as keepalived) when
//! present; chunked framing is hashed as is (genhash does the same). The
//! judge decides earlier when the outcome can no longer change: a refused
//! status, a body complete by its Content-Length, or more than
//! [`MAX_RESPONSE`] bytes (a pass without `digest`, else a failure), so a
//! probe never buffers or hashes an unbounded stream.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::net::IpAddr;

use vigil_model::{HttpProtocol, StatusRange};

use crate::md5::Md5;
use crate::probe::{FailReason, HttpUrl};

/// Most header plus body bytes a probe takes in (1 MiB).
pub const MAX_RESPONSE: usize = 1 << 20;

/// keepalived's request for `url` on `ip:port`: the request line, its
/// User-Agent, the Host (the virtual host, else `ip:port` with an IPv6
/// address in brackets) and, for 1.1 and 1.0C, `Connection: close`.
pub fn request(url: &HttpUrl, protocol: HttpProtocol, ip: IpAddr, port: u16) -> String {
    let host = match (&url.virtualhost, ip) {
        (Some(v), _) => v.clone(),
        (None, IpAddr::V4(a)) => format!("{a}:{port}"),
        (None, IpAddr::V6(a)) => format!("[{a}]:{port}"),
    };
    let close = if protocol.close() {
        "Connection: close\r\n"
    } else {
        ""
    };
    format!(
        "GET {} {}\r\nUser-Agent: KeepAliveClient\r\nHost: {host}\r\n{close}\r\n",
        url.path,
        protocol.version()
    )
}

/// Where the judge stands after some bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Keep reading.
    More,
    /// Decided: stop reading.
    Done(Result<(), FailReason>),
}

/// The judge of one URL's response.
pub struct ResponseJudge<'a> {
    status: &'a [StatusRange],
    digest: Option<&'a str>,
    /// The bytes up to the header end, while it has not been seen.
    head: Vec<u8>,
    body: Option<Body>,
    decided: Option<Result<(), FailReason>>,
}

struct Body {
    md5: Md5,
    /// Body bytes taken so far (at most Content-Length).
    len: usize,
    content_length: Option<usize>,
}

const HEADER_END: &[u8] = b"\r\n\r\n";

impl<'a> ResponseJudge<'a> {
    /// A judge for `url`'s accepted statuses and digest.
    pub fn new(url: &'a HttpUrl) -> ResponseJudge<'a> {
        ResponseJudge {
            status: &url.status,
            digest: url.digest.as_deref(),
            head: Vec::new(),
            body: None,
            decided: None,
        }
    }

    /// Takes the next bytes read from the connection.
    pub fn feed(&mut self, mut data: &[u8]) -> Progress {
        if let Some(d) = self.decided {
            return Progress::Done(d);
        }
        if self.body.is_none() {
            // Look for the end across the previous read's last 3 bytes.
            let from = self.head.len().saturating_sub(HEADER_END.len() - 1);
            let room = MAX_RESPONSE.saturating_sub(self.head.len());
            let take = data.len().min(room);
            self.head.extend_from_slice(&data[..take]);
            let Some(at) = find(&self.head[from..], HEADER_END).map(|i| from + i) else {
                if take < data.len() || self.head.len() >= MAX_RESPONSE {
                    return self.decide(Err(FailReason::HttpTooLarge));
                }
                return Progress::More;
            };
            let end = at + HEADER_END.len();
            let code = status_code(&self.head[..end]);
            let content_length = content_length(&self.head[..end]);
            if !self
                .status
                .iter()
                .any(|r| (r.first..=r.last).contains(&code))
            {
                let why = if code == 0 {
                    FailReason::HttpNoStatus
                } else {
                    FailReason::HttpStatus(code)
                };
                return self.decide(Err(why));
            }
            // What followed the header end in the buffer is the body's start;
            // the rest of this read was not buffered yet.
            let early: Vec<u8> = self.head[end..].to_vec();
            data = &data[take..];
            self.head = Vec::new();
            self.body = Some(Body {
                md5: Md5::new(),
                len: 0,
                content_length,
            });
            if let p @ Progress::Done(_) = self.body_bytes(&early) {
                return p;
            }
        }
        self.body_bytes(data)
    }

    /// The server closed the connection: the verdict on what came.
    pub fn finish(&mut self) -> Result<(), FailReason> {
        if let Some(d) = self.decided {
            return d;
        }
        let verdict = match &self.body {
            None => Err(FailReason::HttpNoHeaderEnd),
            Some(_) => self.digest_verdict(),
        };
        self.decided = Some(verdict);
        verdict
    }

    fn body_bytes(&mut self, data: &[u8]) -> Progress {
        let Some(body) = self.body.as_mut() else {
            return Progress::More;
        };
        let want = match body.content_length {
            Some(cl) => data.len().min(cl.saturating_sub(body.len)),
            None => data.len(),
        };
        let headroom = MAX_RESPONSE.saturating_sub(body.len);
        let take = want.min(headroom);
        if self.digest.is_some() {
            body.md5.update(&data[..take]);
        }
        body.len += take;
        if take < want || body.len >= MAX_RESPONSE {
            // Too much to hash: without a digest the status has decided.
            let v = match self.digest {
                None => Ok(()),
                Some(_) => Err(FailReason::HttpTooLarge),
            };
            return self.decide(v);
        }
        if body.content_length.is_some_and(|cl| body.len >= cl) {
            let v = self.digest_verdict();
            return self.decide(v);
        }
        Progress::More
    }

    fn digest_verdict(&mut self) -> Result<(), FailReason> {
        let (Some(want), Some(body)) = (self.digest, self.body.take()) else {
            return Ok(());
        };
        if body.md5.finish().matches_hex(want) {
            Ok(())
        } else {
            Err(FailReason::DigestMismatch)
        }
    }

    fn decide(&mut self, v: Result<(), FailReason>) -> Progress {
        self.decided = Some(v);
        Progress::Done(v)
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The status on the first line: exactly 3 digits after its first space and
/// followed by a space, else 0 (keepalived's reading).
fn status_code(header: &[u8]) -> u16 {
    let line_end = find(header, b"\r\n").unwrap_or(header.len());
    let line = &header[..line_end];
    let Some(sp) = line.iter().position(|&b| b == b' ') else {
        return 0;
    };
    match line.get(sp + 1..sp + 5) {
        Some([a, b, c, b' ']) if [a, b, c].iter().all(|d| d.is_ascii_digit()) => {
            u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0')
        }
        _ => 0,
    }
}

/// The value of the first `Content-Length:` in the header, if it is a number.
fn content_length(header: &[u8]) -> Option<usize> {
    let at = find(header, b"Content-Length:")? + b"Content-Length:".len();
    let rest = &header[at..];
    let start = rest.iter().position(|&b| b != b' ' && b != b'\t')?;
    let digits = rest[start..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .try_fold(0usize, |n, &d| {
            n.checked_mul(10)?.checked_add(usize::from(d - b'0'))
        });
    match rest.get(start) {
        Some(b) if b.is_ascii_digit() => digits,
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn url(status: &[(u16, u16)], digest: Option<&str>, vhost: Option<&str>) -> HttpUrl {
        HttpUrl {
            path: "/health".into(),
            virtualhost: vhost.map(Into::into),
            status: status
                .iter()
                .map(|&(first, last)| StatusRange { first, last })
                .collect(),
            digest: digest.map(Into::into),
        }
    }

    fn ok_url() -> HttpUrl {
        url(&[(200, 299)], None, None)
    }

    fn md5_hex(b: &[u8]) -> String {
        let mut m = Md5::new();
        m.update(b);
        format!("{}", m.finish())
    }

    /// Feeds `chunks` then closes; the verdict.
    fn judge(u: &HttpUrl, chunks: &[&[u8]]) -> Result<(), FailReason> {
        let mut j = ResponseJudge::new(u);
        for c in chunks {
            if let Progress::Done(v) = j.feed(c) {
                return v;
            }
        }
        j.finish()
    }

    #[test]
    fn request_bytes_are_keepalived_s() {
        let v4 = IpAddr::from([10, 0, 0, 2]);
        assert_eq!(
            request(&ok_url(), HttpProtocol::V10, v4, 8080),
            "GET /health HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 10.0.0.2:8080\r\n\r\n"
        );
        assert_eq!(
            request(&ok_url(), HttpProtocol::V11, v4, 80),
            "GET /health HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nHost: 10.0.0.2:80\r\nConnection: close\r\n\r\n"
        );
        let v6: IpAddr = "fd00::2".parse().unwrap();
        let vh = url(&[(200, 299)], None, Some("www.example.com"));
        assert_eq!(
            request(&vh, HttpProtocol::V10Close, v6, 80),
            "GET /health HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: www.example.com\r\nConnection: close\r\n\r\n"
        );
        assert!(request(&ok_url(), HttpProtocol::V10, v6, 81).contains("Host: [fd00::2]:81\r\n"));
    }

    #[test]
    fn status_is_three_digits_between_spaces() {
        assert_eq!(status_code(b"HTTP/1.1 200 OK\r\n\r\n"), 200);
        assert_eq!(status_code(b"HTTP/1.0 503 \r\n\r\n"), 503);
        // No space after the code, a 4-digit code, letters: 0.
        assert_eq!(status_code(b"HTTP/1.0 200\r\n\r\n"), 0);
        assert_eq!(status_code(b"HTTP/1.0 2000 OK\r\n\r\n"), 0);
        assert_eq!(status_code(b"HTTP/1.0 2x0 OK\r\n\r\n"), 0);
        assert_eq!(status_code(b"garbage\r\nX: 1 200 y\r\n\r\n"), 0);
    }

    #[test]
    fn default_range_and_configured_ranges() {
        let u = ok_url();
        assert_eq!(judge(&u, &[b"HTTP/1.0 204 No\r\n\r\n"]), Ok(()));
        assert_eq!(
            judge(&u, &[b"HTTP/1.0 500 Oops\r\n\r\nbody"]),
            Err(FailReason::HttpStatus(500))
        );
        let u = url(&[(200, 200), (400, 499)], None, None);
        assert_eq!(judge(&u, &[b"HTTP/1.0 404 NF\r\n\r\n"]), Ok(()));
        assert_eq!(
            judge(&u, &[b"HTTP/1.0 201 C\r\n\r\n"]),
            Err(FailReason::HttpStatus(201))
        );
        assert_eq!(
            judge(&u, &[b"HTTP/1.0 200\r\n\r\n"]),
            Err(FailReason::HttpNoStatus)
        );
    }

    #[test]
    fn a_refused_status_decides_at_the_header_end() {
        let u = ok_url();
        let mut j = ResponseJudge::new(&u);
        assert_eq!(j.feed(b"HTTP/1.1 503 Busy\r\n"), Progress::More);
        assert_eq!(
            j.feed(b"\r\n"),
            Progress::Done(Err(FailReason::HttpStatus(503)))
        );
    }

    #[test]
    fn no_header_end_before_close_fails() {
        let u = ok_url();
        assert_eq!(judge(&u, &[]), Err(FailReason::HttpNoHeaderEnd));
        assert_eq!(
            judge(&u, &[b"HTTP/1.0 200 OK\r\nServer: x\r\n"]),
            Err(FailReason::HttpNoHeaderEnd)
        );
    }

    #[test]
    fn header_end_split_across_reads() {
        let u = ok_url();
        let whole = b"HTTP/1.0 200 OK\r\nA: b\r\n\r\n";
        for cut in 1..whole.len() {
            let (a, b) = whole.split_at(cut);
            assert_eq!(judge(&u, &[a, b]), Ok(()), "cut {cut}");
        }
    }

    #[test]
    fn digest_covers_the_body_cut_at_content_length() {
        let body = b"hello, vigil\n";
        let d = md5_hex(body);
        let u = url(&[(200, 299)], Some(&d), None);
        // Without Content-Length: everything after the header end.
        let mut resp = b"HTTP/1.0 200 OK\r\nServer: t\r\n\r\n".to_vec();
        resp.extend_from_slice(body);
        for cut in 0..resp.len() {
            let (a, b) = resp.split_at(cut);
            assert_eq!(judge(&u, &[a, b]), Ok(()), "cut {cut}");
        }
        // With Content-Length: trailing bytes are not hashed, and the body's
        // end decides before the close.
        let mut resp = b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n".to_vec();
        resp.extend_from_slice(body);
        resp.extend_from_slice(b"TRAILING JUNK");
        let mut j = ResponseJudge::new(&u);
        assert_eq!(j.feed(&resp), Progress::Done(Ok(())));
        // A different body fails.
        assert_eq!(
            judge(&u, &[b"HTTP/1.0 200 OK\r\n\r\nhello, vigil!"]),
            Err(FailReason::DigestMismatch)
        );
        // Lowercase `content-length:` is not keepalived's match: all is hashed.
        let mut resp = b"HTTP/1.1 200 OK\r\ncontent-length: 13\r\n\r\n".to_vec();
        resp.extend_from_slice(body);
        resp.extend_from_slice(b"X");
        assert_eq!(judge(&u, &[&resp]), Err(FailReason::DigestMismatch));
    }

    #[test]
    fn content_length_parsing() {
        assert_eq!(content_length(b"Content-Length: 42\r\n"), Some(42));
        assert_eq!(content_length(b"Content-Length:\t7\r\n"), Some(7));
        assert_eq!(content_length(b"Content-Length: x\r\n"), None);
        assert_eq!(
            content_length(b"Content-Length: 99999999999999999999999\r\n"),
            None
        );
        assert_eq!(content_length(b"Server: y\r\n"), None);
    }

    #[test]
    fn oversized_responses() {
        let big = vec![b'a'; MAX_RESPONSE + 10];
        // A header that never ends.
        let u = ok_url();
        assert_eq!(judge(&u, &[&big]), Err(FailReason::HttpTooLarge));
        // A huge body without a digest: the status has decided, pass early.
        let mut j = ResponseJudge::new(&u);
        assert_eq!(j.feed(b"HTTP/1.0 200 OK\r\n\r\n"), Progress::More);
        assert_eq!(j.feed(&big), Progress::Done(Ok(())));
        // With a digest it cannot be checked: fail with the reason.
        let d = md5_hex(b"x");
        let u = url(&[(200, 299)], Some(&d), None);
        let mut j = ResponseJudge::new(&u);
        assert_eq!(j.feed(b"HTTP/1.0 200 OK\r\n\r\n"), Progress::More);
        assert_eq!(j.feed(&big), Progress::Done(Err(FailReason::HttpTooLarge)));
        // Exactly the cap of body still decides (nothing more can be taken).
        let mut j = ResponseJudge::new(&u);
        j.feed(b"HTTP/1.0 200 OK\r\n\r\n");
        assert_eq!(
            j.feed(&big[..MAX_RESPONSE - 1]),
            Progress::More,
            "one byte under the cap keeps reading"
        );
    }

    #[test]
    fn decided_judges_stay_decided() {
        let u = ok_url();
        let mut j = ResponseJudge::new(&u);
        let first = j.feed(b"HTTP/1.0 500 x\r\n\r\n");
        assert_eq!(first, Progress::Done(Err(FailReason::HttpStatus(500))));
        assert_eq!(j.feed(b"more"), first);
        assert_eq!(j.finish(), Err(FailReason::HttpStatus(500)));
    }
}
