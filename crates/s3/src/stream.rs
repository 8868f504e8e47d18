//! An object's bytes into records, streamed: gunzipped as they are read, capped once
//! decompressed, and cut into records (CloudTrail's `Records` element by element, lines otherwise).

use std::io::{BufRead, BufReader, Read};
use std::ops::ControlFlow;

use crate::layout::Kind;
use crate::window::Stop;
use seclog_core::RecordKind;

/// Why an object cannot be read; it is dead-lettered whole with this reason.
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    /// Not gzip, or a gzip stream that is truncated or corrupt.
    #[error("the object is not a readable gzip stream: {0}")]
    Compression(std::io::Error),
    /// More than the cap once decompressed.
    #[error("the object decompresses to more than {0} bytes")]
    TooLarge(u64),
    /// A record longer than the record cap: not read whole into memory, so the object stops there.
    #[error("a record is larger than {0} bytes (MAX_RECORD_BYTES)")]
    RecordTooLarge(u64),
    /// Not the shape its kind has (a CloudTrail file that is not `{{"Records":[…]}}`, a flow-log
    /// file without its header line).
    #[error("{0}")]
    Shape(String),
}

impl ObjectError {
    /// The stable name written as the dead letter's `error_type`.
    #[must_use]
    pub fn kind(&self) -> RecordKind {
        match self {
            Self::Compression(_) => RecordKind::BadCompression,
            Self::TooLarge(_) | Self::RecordTooLarge(_) => RecordKind::TooLarge,
            Self::Shape(_) => RecordKind::BadRecord,
        }
    }
}

/// The object's bytes, gunzipped when its key says so (`.gz`), capped at `max_bytes` once
/// decompressed.
///
/// # Errors
/// [`ObjectError::Compression`] when a `.gz` object does not start as gzip does.
pub fn decoded<'r>(
    body: impl Read + 'r,
    gzip: bool,
    max_bytes: u64,
) -> Result<Capped<Box<dyn BufRead + 'r>>, ObjectError> {
    let mut body = BufReader::with_capacity(64 * 1024, body);
    let inner: Box<dyn BufRead + 'r> = if gzip {
        let start = body.fill_buf().map_err(ObjectError::Compression)?;
        if start.is_empty() {
            // A zero-byte object holds no records (it is not a gzip stream of none).
            Box::new(body)
        } else if start.starts_with(&[0x1f, 0x8b]) {
            // Streamed, so not through `decompress_capped`: the `Capped` reader below is the cap.
            #[allow(clippy::disallowed_types)]
            let gunzip = flate2::bufread::MultiGzDecoder::new(body);
            Box::new(BufReader::with_capacity(64 * 1024, gunzip))
        } else {
            return Err(ObjectError::Compression(std::io::Error::other(
                "the key ends in .gz but the object is not gzip",
            )));
        }
    } else {
        Box::new(body)
    };
    Ok(Capped { inner, left: max_bytes, max: max_bytes, max_record: DEFAULT_MAX_RECORD_BYTES })
}

/// The longest record read by default: four times the largest event CloudTrail writes (1 MB), far
/// more than a flow-log, WAF, Resolver or load-balancer record.
pub const DEFAULT_MAX_RECORD_BYTES: u64 = 4 << 20;

/// A reader that fails once more than its cap has been read.
pub struct Capped<R> {
    inner: R,
    left: u64,
    max: u64,
    /// The longest record [`records`] reads.
    max_record: u64,
}

impl<R> Capped<R> {
    /// The same reader, whose records may be at most `max_record` bytes long.
    #[must_use]
    pub fn records_of_at_most(self, max_record: u64) -> Self {
        Self { max_record, ..self }
    }
}

const TOO_LARGE: &str = "seclog: decompressed cap reached";

impl<R: BufRead> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Capped<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        let left = self.left;
        let buf = self.inner.fill_buf()?;
        if !buf.is_empty() && left == 0 {
            return Err(std::io::Error::other(TOO_LARGE));
        }
        let n = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
        Ok(&buf[..n])
    }

    fn consume(&mut self, n: usize) {
        self.left -= n as u64;
        self.inner.consume(n);
    }
}

fn read_error(e: std::io::Error, max: u64) -> ObjectError {
    if e.to_string() == TOO_LARGE {
        ObjectError::TooLarge(max)
    } else {
        ObjectError::Compression(e)
    }
}

/// One record of an object: its number (1-based line, or place in `Records`) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// 1-based.
    pub number: usize,
    /// The raw record.
    pub text: String,
}

/// Hands each record of a `kind` object to `each`, in order, until it breaks.
///
/// CloudTrail files are read as a stream of `Records` elements (numbered from 1); the other
/// kinds line by line (numbered by line, empty lines skipped; a flow-log file's header is its
/// first record). A digest file hands on nothing.
///
/// # Errors
/// An [`ObjectError`] when the object cannot be read (records handed on before stay handed on).
pub fn records<R: BufRead>(
    kind: Kind,
    mut reader: Capped<R>,
    mut each: impl FnMut(Record) -> ControlFlow<()>,
) -> Result<(), ObjectError> {
    let (max, max_record) = (reader.max, reader.max_record);
    match kind {
        Kind::CloudTrail | Kind::CloudTrailInsight => {
            let mut number = 0;
            crate::window::cloudtrail_records(&mut reader, max_record, |text| {
                number += 1;
                each(Record { number, text })
            })
            .map_err(|stop| match stop {
                Stop::Io(e) => read_error(e, max),
                Stop::TooLarge => ObjectError::RecordTooLarge(max_record),
                Stop::Shape(why) => ObjectError::Shape(format!("not a CloudTrail file ({{\"Records\":[…]}}): {why}")),
            })
        }
        Kind::CloudTrailDigest => Ok(()),
        _ => {
            let mut line = Vec::new();
            let mut number = 0;
            // The cap and a line end (`\r\n`) at most: a longer line is never held whole.
            let limit = max_record.saturating_add(2);
            loop {
                line.clear();
                let n = (&mut reader).take(limit).read_until(b'\n', &mut line).map_err(|e| read_error(e, max))?;
                if n == 0 {
                    return Ok(());
                }
                let cut = n as u64 == limit && !line.ends_with(b"\n");
                if cut || line.trim_ascii_end().len() as u64 > max_record {
                    return Err(ObjectError::RecordTooLarge(max_record));
                }
                number += 1;
                if line.trim_ascii().is_empty() {
                    continue;
                }
                let line = line.trim_ascii_end();
                // Checked as `str` first: much faster than `from_utf8_lossy` on valid text.
                let text = std::str::from_utf8(line)
                    .map_or_else(|_| String::from_utf8_lossy(line).into_owned(), str::to_owned);
                if each(Record { number, text }).is_break() {
                    return Ok(());
                }
            }
        }
    }
}
