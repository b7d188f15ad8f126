//! A bare HTTP/1.1 client over a `TcpStream` that sends a chunked request body piece by piece
//! and reads the response body chunk by chunk, so tests can interleave the two and see what
//! streams. (Ordinary HTTP clients send the whole request before reading the response.)

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// One connection with one request on it.
pub struct Exchange {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
}

/// Status and headers of the response.
#[derive(Debug)]
pub struct Head {
    /// Status code.
    pub status: u16,
    /// Headers, names in lower case.
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl Exchange {
    /// Connects to `base` (`http://host:port`) and sends the request line and headers. With
    /// `chunked`, the body follows through [`Exchange::send_chunk`] and [`Exchange::end_body`].
    pub fn start(
        base: &str,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        chunked: bool,
    ) -> Exchange {
        let address = base.trim_start_matches("http://");
        let stream = TcpStream::connect(address).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut head = format!("{method} {path} HTTP/1.1\r\nhost: {address}\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if chunked {
            head.push_str("transfer-encoding: chunked\r\n");
        }
        head.push_str("\r\n");
        let mut writer = stream.try_clone().unwrap();
        writer.write_all(head.as_bytes()).unwrap();
        Exchange {
            writer,
            reader: BufReader::new(stream),
        }
    }

    /// Sends raw bytes (for a body with a `content-length`).
    pub fn send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.writer.write_all(bytes)
    }

    /// Sends one chunk of a chunked request body.
    pub fn send_chunk(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        assert!(!bytes.is_empty(), "an empty chunk would end the body");
        self.writer
            .write_all(format!("{:x}\r\n", bytes.len()).as_bytes())?;
        self.writer.write_all(bytes)?;
        self.writer.write_all(b"\r\n")?;
        self.writer.flush()
    }

    /// Ends a chunked request body.
    pub fn end_body(&mut self) -> std::io::Result<()> {
        self.writer.write_all(b"0\r\n\r\n")
    }

    /// Reads the status line and headers.
    pub fn read_head(&mut self) -> Head {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("status line");
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {line:?}"));
        let mut headers = Vec::new();
        loop {
            line.clear();
            self.reader.read_line(&mut line).expect("header line");
            let trimmed = line.trim_end();
            if trimmed.is_empty() {
                break;
            }
            let (name, value) = trimmed.split_once(':').expect("header");
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
        Head { status, headers }
    }

    /// Reads the next chunk of a chunked response body: `Ok(None)` at its proper end, an error
    /// when the connection ends or breaks before that.
    pub fn read_chunk(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let size = usize::from_str_radix(line.trim_end().split(';').next().unwrap_or(""), 16)
            .map_err(|_| std::io::Error::other(format!("bad chunk size line {line:?}")))?;
        let mut chunk = vec![0; size + 2];
        self.reader.read_exact(&mut chunk)?;
        chunk.truncate(size);
        Ok((size > 0).then_some(chunk))
    }

    /// Reads a body of `length` bytes (a response with a `content-length`).
    pub fn read_exact_body(&mut self, length: usize) -> Vec<u8> {
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).expect("body");
        body
    }
}
