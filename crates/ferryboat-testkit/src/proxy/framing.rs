//! Just enough HTTP/1.1 framing to tell where each message of a byte stream begins and ends
//! (Content-Length, chunked bodies, 1xx interim answers, bodyless answers, bodies that run
//! to the close), so the proxy can count chunks per message and lose one exchange's answer.
//! Anything it cannot follow turns the rest of the connection into one opaque message.

/// Which way the bytes flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// Client to server: requests.
    Request,
    /// Server to client: responses.
    Response,
}

/// Heads (and chunk-size or trailer lines) longer than this are not followed.
const MAX_LINE: usize = 64 * 1024;

#[derive(Debug)]
enum State {
    /// Before the first byte of a message.
    Idle,
    Head,
    Length(u64),
    ChunkSize,
    ChunkData(u64),
    ChunkEnd(u8),
    Trailer,
    UntilClose,
    Opaque,
}

/// What one call to [`Framer::consume`] found.
#[derive(Debug, Default)]
pub(crate) struct Step {
    /// Bytes of the input that belong to the current message.
    pub used: usize,
    /// The message's head was completed: for requests, whether it was a `HEAD` request.
    pub request_head: Option<bool>,
    /// A final (not 1xx) response head was completed.
    pub final_response: bool,
    /// The message ended within `used`.
    pub ended: bool,
}

/// Follows the messages of one direction of a connection.
#[derive(Debug)]
pub(crate) struct Framer {
    side: Side,
    state: State,
    line: Vec<u8>,
}

impl Framer {
    pub(crate) fn new(side: Side) -> Self {
        Framer { side, state: State::Idle, line: Vec::new() }
    }

    /// Whether the next byte starts a new message.
    pub(crate) fn idle(&self) -> bool {
        matches!(self.state, State::Idle)
    }

    /// Consumes bytes of the current message from `data`, stopping at its end.
    /// `next_is_head` tells the response side whether the request it answers was a `HEAD`.
    pub(crate) fn consume(&mut self, data: &[u8], next_is_head: &mut dyn FnMut() -> bool) -> Step {
        let mut step = Step::default();
        let mut i = 0;
        while i < data.len() {
            match &mut self.state {
                State::Idle => {
                    self.state = State::Head;
                    self.line.clear();
                }
                State::Head => {
                    let b = data[i];
                    i += 1;
                    self.line.push(b);
                    if self.line.ends_with(b"\r\n\r\n") || self.line.ends_with(b"\n\n") {
                        self.finish_head(&mut step, next_is_head);
                    } else if self.line.len() > MAX_LINE {
                        self.state = State::Opaque;
                    }
                }
                State::Length(left) => {
                    let take = (*left).min((data.len() - i) as u64);
                    i += take as usize;
                    *left -= take;
                    if *left == 0 {
                        self.state = State::Idle;
                    }
                }
                State::ChunkSize => {
                    let b = data[i];
                    i += 1;
                    self.line.push(b);
                    if b == b'\n' {
                        let text = String::from_utf8_lossy(&self.line);
                        let size = u64::from_str_radix(text.split(';').next().unwrap_or("").trim(), 16);
                        self.line.clear();
                        self.state = match size {
                            Ok(0) => State::Trailer,
                            Ok(n) => State::ChunkData(n),
                            Err(_) => State::Opaque,
                        };
                    } else if self.line.len() > MAX_LINE {
                        self.state = State::Opaque;
                    }
                }
                State::ChunkData(left) => {
                    let take = (*left).min((data.len() - i) as u64);
                    i += take as usize;
                    *left -= take;
                    if *left == 0 {
                        self.state = State::ChunkEnd(2);
                    }
                }
                State::ChunkEnd(left) => {
                    i += 1;
                    *left -= 1;
                    if *left == 0 {
                        self.state = State::ChunkSize;
                    }
                }
                State::Trailer => {
                    let b = data[i];
                    i += 1;
                    self.line.push(b);
                    if b == b'\n' {
                        let empty = self.line == b"\r\n" || self.line == b"\n";
                        self.line.clear();
                        if empty {
                            self.state = State::Idle;
                        }
                    } else if self.line.len() > MAX_LINE {
                        self.state = State::Opaque;
                    }
                }
                State::UntilClose | State::Opaque => i = data.len(),
            }
            if self.idle() && i > 0 {
                step.ended = true;
                break;
            }
        }
        step.used = i;
        step
    }

    fn finish_head(&mut self, step: &mut Step, next_is_head: &mut dyn FnMut() -> bool) {
        let text = String::from_utf8_lossy(&self.line).into_owned();
        self.line.clear();
        let mut lines = text.lines();
        let first = lines.next().unwrap_or("");
        let mut length = None;
        let mut chunked = false;
        for line in lines {
            let Some((name, value)) = line.split_once(':') else { continue };
            let value = value.trim();
            if name.trim().eq_ignore_ascii_case("content-length") {
                length = value.parse::<u64>().ok();
            } else if name.trim().eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.rsplit(',').next().is_some_and(|c| c.trim().eq_ignore_ascii_case("chunked"));
            }
        }
        let body = if chunked {
            State::ChunkSize
        } else {
            match length {
                Some(0) => State::Idle,
                Some(n) => State::Length(n),
                None => State::Idle,
            }
        };
        self.state = match self.side {
            Side::Request => {
                step.request_head = Some(first.split(' ').next() == Some("HEAD"));
                body
            }
            Side::Response => {
                let status: u16 = first.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
                if (100..200).contains(&status) {
                    State::Idle
                } else {
                    step.final_response = true;
                    let bodyless = next_is_head() || status == 204 || status == 304;
                    match body {
                        _ if bodyless => State::Idle,
                        State::Idle if length.is_none() && !chunked => State::UntilClose,
                        other => other,
                    }
                }
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(side: Side, input: &[u8], heads: &[bool]) -> Vec<usize> {
        let mut f = Framer::new(side);
        let mut heads = heads.iter().copied();
        let mut out = Vec::new();
        let mut pos = 0;
        let mut len = 0;
        while pos < input.len() {
            let step = f.consume(&input[pos..], &mut || heads.next().unwrap_or(false));
            pos += step.used;
            len += step.used;
            if step.ended {
                out.push(len);
                len = 0;
            }
        }
        if len > 0 {
            out.push(len);
        }
        out
    }

    #[test]
    fn requests_end_after_their_length() {
        let a = b"PUT /b/k HTTP/1.1\r\ncontent-length: 3\r\n\r\nabc";
        let b = b"GET /b/k HTTP/1.1\r\nhost: x\r\n\r\n";
        let input = [&a[..], &b[..]].concat();
        assert_eq!(split(Side::Request, &input, &[]), [a.len(), b.len()]);
    }

    #[test]
    fn chunked_interim_and_bodyless_responses() {
        let cont = b"HTTP/1.1 100 Continue\r\n\r\n";
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
        let head = b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n";
        let sized = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        let input = [&cont[..], &chunked[..], &head[..], &sized[..]].concat();
        let got = split(Side::Response, &input, &[false, true, false]);
        assert_eq!(got, [cont.len(), chunked.len(), head.len(), sized.len()]);
    }

    #[test]
    fn a_response_without_length_runs_to_the_close() {
        let input = b"HTTP/1.1 200 OK\r\n\r\nall of it";
        assert_eq!(split(Side::Response, input, &[false]), [input.len()]);
    }
}
