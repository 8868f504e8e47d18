//! A CloudTrail file, `{"Records":[…]}`, read one record at a time from a stream, at the speed of
//! parsing a slice.
//!
//! `serde_json`'s parser over a reader takes each byte through `Read`, about ten times slower than
//! over a slice (serde-rs/json#160, where its maintainer measured 562 ms against 55 ms), and a
//! file can be far larger than memory. So the stream is read into a window: `serde_json` parses
//! each key and each value from the window (`from_slice`), and a value that does not end inside
//! it grows the window until it does. Only the punctuation between them (the file's braces, the
//! array's brackets, colons and commas) is read here.

use std::borrow::Cow;
use std::io::BufRead;
use std::ops::ControlFlow;

use serde::de::{Error as _, Unexpected};
use serde_json::value::RawValue;

/// Why a file stopped being read.
#[derive(Debug)]
pub(crate) enum Stop {
    /// Reading the stream failed (or reached the cap).
    Io(std::io::Error),
    /// A value longer than the record cap.
    TooLarge,
    /// Not JSON, or not the shape of a CloudTrail file; the message says where (a byte offset).
    Shape(String),
}

/// Hands each element of the file's `Records` array to `each`, in order, as its raw text; other
/// keys of the file are skipped, and elements after `each` breaks are read but not handed on.
///
/// # Errors
/// A [`Stop`]: the elements handed on before it stay handed on.
pub(crate) fn cloudtrail_records<R: BufRead>(
    reader: R,
    max_value: u64,
    mut each: impl FnMut(String) -> ControlFlow<()>,
) -> Result<(), Stop> {
    let max_value = usize::try_from(max_value).unwrap_or(usize::MAX);
    let mut w = Window { reader, buf: Vec::new(), at: 0, dropped: 0, eof: false, max_value };
    w.open(b'{', "an object with a Records array")?;
    let mut seen = false;
    let mut stopped = false;
    if !w.close(b'}')? {
        loop {
            let records = w.value(|raw| serde_json::from_str::<Cow<'_, str>>(raw.get()).map(|key| key == "Records"))?;
            let records = records.map_err(|e| w.shape(&format!("a key: {e}")))?;
            w.expect(b':')?;
            if records && !seen {
                seen = true;
                w.open(b'[', "an array of records")?;
                if !w.close(b']')? {
                    loop {
                        if stopped {
                            w.value(|_| ())?;
                        } else {
                            let text = w.value(|raw| raw.get().to_owned())?;
                            stopped = each(text).is_break();
                        }
                        if w.next_or_close(b']')? {
                            break;
                        }
                    }
                }
            } else {
                w.value(|_| ())?;
            }
            if w.next_or_close(b'}')? {
                break;
            }
        }
    }
    if !seen {
        return Err(w.shape(&serde_json::Error::missing_field("Records").to_string()));
    }
    match w.peek()? {
        None => Ok(()),
        Some(_) => Err(w.shape("trailing characters after the file's object")),
    }
}

/// The part of the stream read and not yet parsed.
struct Window<R> {
    reader: R,
    buf: Vec<u8>,
    /// Where parsing is in `buf`.
    at: usize,
    /// Bytes of the stream dropped from the front of `buf` (for offsets in messages).
    dropped: usize,
    eof: bool,
    /// The longest value read: the window never holds much more than twice this.
    max_value: usize,
}

impl<R: BufRead> Window<R> {
    /// Reads at least as much again as the window holds (so a long value is parsed a bounded
    /// number of times), dropping what is parsed. False at the end of the stream.
    fn more(&mut self) -> Result<bool, Stop> {
        if self.eof {
            return Ok(false);
        }
        self.buf.drain(..self.at);
        self.dropped += self.at;
        self.at = 0;
        let want = self.buf.len().max(1);
        let mut read = 0;
        while read < want {
            let chunk = self.reader.fill_buf().map_err(Stop::Io)?;
            if chunk.is_empty() {
                self.eof = true;
                break;
            }
            let n = chunk.len();
            self.buf.extend_from_slice(chunk);
            self.reader.consume(n);
            read += n;
        }
        Ok(read > 0)
    }

    /// The next byte that is not JSON white space, not consumed; `None` at the end.
    fn peek(&mut self) -> Result<Option<u8>, Stop> {
        loop {
            while let Some(&b) = self.buf.get(self.at) {
                if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                    return Ok(Some(b));
                }
                self.at += 1;
            }
            if !self.more()? {
                return Ok(None);
            }
        }
    }

    /// The next value, handed to `read` as its raw text.
    fn value<T>(&mut self, mut read: impl FnMut(&RawValue) -> T) -> Result<T, Stop> {
        loop {
            if self.peek()?.is_none() {
                return Err(self.shape("the file ends where a value should be"));
            }
            let parsed = {
                let window = &self.buf[self.at..];
                let mut values = serde_json::Deserializer::from_slice(window).into_iter::<&RawValue>();
                match values.next() {
                    // A value that ends at the window's edge may go on (a number): only taken at
                    // the end of the stream. Whitespace before it counts towards the cap: a few
                    // bytes, where a record is megabytes.
                    Some(Ok(raw)) if values.byte_offset() < window.len() || self.eof => {
                        let end = values.byte_offset();
                        if end > self.max_value {
                            Parsed::TooLarge
                        } else {
                            Parsed::Value(end, read(raw))
                        }
                    }
                    // A value cut by the window's edge fails there (`EOF while parsing`, or an
                    // invalid number for `1.`): read on. Any other error is the file's.
                    Some(Err(e)) if !self.eof && (e.is_eof() || offset(window, &e) + 1 >= window.len()) => Parsed::More,
                    Some(Err(e)) => Parsed::Error(e),
                    _ => Parsed::More,
                }
            };
            match parsed {
                Parsed::Value(end, value) => {
                    self.at += end;
                    return Ok(value);
                }
                Parsed::More if self.buf.len() - self.at <= self.max_value => {
                    self.more()?;
                }
                Parsed::More | Parsed::TooLarge => return Err(Stop::TooLarge),
                Parsed::Error(e) => return Err(self.json(&e)),
            }
        }
    }

    /// Consumes `open` (`{` or `[`), or says what the value is instead.
    fn open(&mut self, open: u8, expected: &str) -> Result<(), Stop> {
        match self.peek()? {
            Some(b) if b == open => {
                self.at += 1;
                Ok(())
            }
            other => Err(self.shape(&serde_json::Error::invalid_type(unexpected(other), &expected).to_string())),
        }
    }

    /// Consumes `close` if it comes next (an empty object or array).
    fn close(&mut self, close: u8) -> Result<bool, Stop> {
        let closed = self.peek()? == Some(close);
        self.at += usize::from(closed);
        Ok(closed)
    }

    /// Consumes `b`, or says what came instead.
    fn expect(&mut self, b: u8) -> Result<(), Stop> {
        if self.close(b)? {
            Ok(())
        } else {
            Err(self.shape(&format!("expected `{}`", char::from(b))))
        }
    }

    /// After a member or an element: true at `close`, false after a comma.
    fn next_or_close(&mut self, close: u8) -> Result<bool, Stop> {
        match self.peek()? {
            Some(b',') => {
                self.at += 1;
                Ok(false)
            }
            Some(b) if b == close => {
                self.at += 1;
                Ok(true)
            }
            _ => Err(self.shape(&format!("expected `,` or `{}`", char::from(close)))),
        }
    }

    /// A shape error at the current place in the stream.
    fn shape(&self, what: &str) -> Stop {
        Stop::Shape(format!("{what} at byte {}", self.dropped + self.at))
    }

    /// `serde_json`'s error, its line and column in the window made an offset in the stream.
    fn json(&self, e: &serde_json::Error) -> Stop {
        let message = e.to_string();
        let message = message.strip_suffix(&format!(" at line {} column {}", e.line(), e.column())).unwrap_or(&message);
        Stop::Shape(format!("{message} at byte {}", self.dropped + self.at + offset(&self.buf[self.at..], e)))
    }
}

/// Where in `window` `serde_json`'s error is (it says a line and a column, from 1).
fn offset(window: &[u8], e: &serde_json::Error) -> usize {
    let line_start: usize = window.split(|&b| b == b'\n').take(e.line().saturating_sub(1)).map(|l| l.len() + 1).sum();
    line_start + e.column().saturating_sub(1)
}

/// What one attempt at parsing the next value from the window gave.
enum Parsed<T> {
    /// The value as `read` made it, and where in the window it ends.
    Value(usize, T),
    /// Longer than the cap.
    TooLarge,
    /// Cut by the window's edge: the window must grow.
    More,
    /// Not JSON.
    Error(serde_json::Error),
}

/// What serde says a value is, from its first byte.
fn unexpected(first: Option<u8>) -> Unexpected<'static> {
    match first {
        Some(b'[') => Unexpected::Seq,
        Some(b'{') => Unexpected::Map,
        Some(b'"') => Unexpected::Other("a string"),
        Some(b't' | b'f') => Unexpected::Other("a boolean"),
        Some(b'n') => Unexpected::Unit,
        Some(b'-' | b'0'..=b'9') => Unexpected::Other("a number"),
        Some(_) => Unexpected::Other("a byte that starts no JSON value"),
        None => Unexpected::Other("the end of the file"),
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufReader, Read};

    use super::*;

    /// Hands out `step` bytes per read: every value crosses window edges.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.1.min(buf.len()).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn read(file: &[u8], step: usize) -> Result<Vec<String>, String> {
        read_at_most(file, step, u64::MAX)
    }

    fn read_at_most(file: &[u8], step: usize, max_value: u64) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        let reader = BufReader::with_capacity(step, Trickle(file, step));
        match cloudtrail_records(reader, max_value, |text| {
            out.push(text);
            ControlFlow::Continue(())
        }) {
            Ok(()) => Ok(out),
            Err(Stop::Shape(why)) => Err(why),
            Err(Stop::Io(e)) => Err(e.to_string()),
            Err(Stop::TooLarge) => Err("too large".into()),
        }
    }

    /// What `serde_json` reads as the `Records` of a whole file in memory.
    fn whole(file: &[u8]) -> Vec<String> {
        #[derive(serde::Deserialize)]
        struct File<'a> {
            #[serde(borrow, rename = "Records")]
            records: Vec<&'a RawValue>,
        }
        let file: File<'_> = serde_json::from_slice(file).unwrap();
        file.records.iter().map(|r| r.get().to_owned()).collect()
    }

    #[test]
    fn every_element_is_read_whole_wherever_the_window_edges_fall() {
        let files: [&[u8]; 6] = [
            br#"{"Records":[{"eventID":"a","n":12345678901234,"s":"x\"]},{"},123456789,-1.5e10,"t",true,null,[1,[2]],{}]}"#,
            b" \n{ \"Other\" : [1,{\"Records\":2}] , \"Records\" :\n[ 1 ,\t2 ] , \"After\": 9876543210 }\n ",
            br#"{"Records":[]}"#,
            br#"{"Records":[0]}"#,
            "{\"Records\":[\"caf\u{e9} \u{1f600}\",{\"k\\u00e9y\":\"\\ud83d\\ude00\"}]}".as_bytes(),
            br#"{"digest":"no","Records":[{"deep":[[[[[{"a":[]}]]]]]}]}"#,
        ];
        for file in files {
            for step in [1, 2, 3, 7, 64, 1 << 16] {
                assert_eq!(read(file, step).unwrap(), whole(file), "{} by {step}", String::from_utf8_lossy(file));
            }
        }
        // A second `Records` key is skipped, as the first one is read.
        let twice = br#"{"Records":[1, 2],"Records":[3]}"#;
        for step in [1, 3, 1 << 16] {
            assert_eq!(read(twice, step).unwrap(), ["1", "2"]);
        }
    }

    #[test]
    fn no_value_longer_than_the_cap_is_read_and_the_window_stays_near_it() {
        let ten = br#"{"Records":["12345678",1234567890,"x"]}"#;
        let eleven = br#"{"Records":["12345678","123456789"]}"#;
        let key = br#"{"Recordsss":0,"Records":[]}"#;
        for step in [1, 4, 1 << 16] {
            assert_eq!(read_at_most(ten, step, 10).unwrap(), ["\"12345678\"", "1234567890", "\"x\""]);
            assert_eq!(read_at_most(eleven, step, 10), Err("too large".into()), "by {step}");
            assert_eq!(read_at_most(key, step, 10), Err("too large".into()), "a key, by {step}");
        }
    }

    #[test]
    fn a_file_of_another_shape_says_what_it_is_and_where() {
        let cases: [(&[u8], &str); 9] = [
            (br#"[{"eventID":"a"}]"#, "invalid type: sequence, expected an object with a Records array at byte 0"),
            (br#"{"Logs":[]}"#, "missing field `Records` at byte 11"),
            (br#"{"Records":{"a":1}}"#, "invalid type: map, expected an array of records at byte 11"),
            (br#"{"Records":[1 2]}"#, "expected `,` or `]` at byte 14"),
            (br#"{"Records":[1,]}"#, "expected value at byte 14"),
            (br#"{"Records":[1]"#, "expected `,` or `}` at byte 14"),
            (br#"{"Records":[{"a":tru}]}"#, "expected ident at byte 20"),
            (br#"{"Records":[]} x"#, "trailing characters after the file's object at byte 15"),
            (b"", "invalid type: the end of the file, expected an object with a Records array at byte 0"),
        ];
        for (file, why) in cases {
            for step in [1, 5, 1 << 16] {
                assert_eq!(read(file, step), Err(why.to_owned()), "{} by {step}", String::from_utf8_lossy(file));
            }
        }
    }

    #[test]
    fn elements_after_a_break_are_read_but_not_handed_on_and_a_read_error_stops() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("broken"))
            }
        }
        let mut seen = Vec::new();
        let file = br#"{"Records":[1,2,3],"x":0}"#;
        let done = cloudtrail_records(&file[..], u64::MAX, |text| {
            seen.push(text);
            if seen.len() == 2 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        assert!(done.is_ok());
        assert_eq!(seen, ["1", "2"]);

        let stop = cloudtrail_records(BufReader::new(Failing), u64::MAX, |_| ControlFlow::Continue(()));
        assert!(matches!(stop, Err(Stop::Io(e)) if e.to_string() == "broken"));
    }
}
