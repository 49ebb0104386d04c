//! The CSV row writer of the trace files.
//!
//! The trace files are the hot path of a run (one transitions.csv row per state change), and
//! the `csv` crate's writer re-runs its quoting state machine and delimiter bookkeeping for every
//! field: about a third of a large run's instructions went there. This writer formats numbers and
//! times straight into one buffer and scans a text field once for the bytes that need quotes.
//! Its output is byte-for-byte what `csv::Writer` writes with its defaults (a test compares
//! them): `,` between fields, `\n` after a row, a field quoted only when it holds `,`, `"`,
//! `\r` or `\n`, and a quote inside a quoted field doubled. The files are read back with the
//! `csv` crate.

use crate::engine::SimTime;
use std::io::{self, Write};

/// Bytes buffered before they are handed to the sink.
const FLUSH_AT: usize = 1 << 16;

/// `.000,` … `.999,`: a time's milliseconds and comma, looked up rather than computed digit by
/// digit (three divisions per time written were 2 % of the cold storm's instructions).
static MILLIS: [[u8; 5]; 1000] = {
    let mut table = [[0; 5]; 1000];
    let mut ms = 0;
    while ms < 1000 {
        table[ms] = [b'.', digit(ms / 100), digit(ms / 10), digit(ms), b','];
        ms += 1;
    }
    table
};

/// The last decimal digit of `n`.
const fn digit(n: usize) -> u8 {
    b'0' + (n % 10) as u8
}

/// Where a writer's bytes go. `Send`: the trace may be written on a thread of its own.
pub type Sink = Box<dyn Write + Send>;

pub struct RowWriter {
    out: Sink,
    /// Every field is followed by a `,`; `end_row` turns the row's last one into `\n`.
    buf: Vec<u8>,
    /// Where the row being written starts in `buf`.
    row_start: usize,
}

impl RowWriter {
    /// A writer whose first row is `header`.
    pub fn new(out: Sink, header: &[&str]) -> io::Result<Self> {
        let mut w = RowWriter {
            out,
            buf: Vec::with_capacity(FLUSH_AT + 1024),
            row_start: 0,
        };
        for name in header {
            w.text(name);
        }
        w.end_row()?;
        Ok(w)
    }

    /// A text field, quoted if it needs to be.
    #[inline]
    pub fn text(&mut self, s: impl AsRef<[u8]>) {
        let s = s.as_ref();
        put_field(&mut self.buf, s, scan(s));
    }

    /// Fields made by [`encode`] (each with its comma), copied as they are.
    #[inline]
    pub fn encoded(&mut self, fields: &[u8]) {
        self.buf.extend_from_slice(fields);
    }

    /// A field that is one of our own fixed labels (a state, a hop): never needs quotes.
    #[inline]
    pub fn label(&mut self, s: &'static str) {
        debug_assert_eq!(scan(s.as_bytes()), Scan::Plain);
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.push(b',');
    }

    /// An empty field.
    #[inline]
    pub fn empty(&mut self) {
        self.buf.push(b',');
    }

    /// A non-negative integer in decimal.
    #[inline]
    pub fn uint(&mut self, n: u64) {
        push_decimal(&mut self.buf, n);
        self.buf.push(b',');
    }

    /// `prefix` followed by `n` ("req-12").
    #[inline]
    pub fn id(&mut self, prefix: &str, n: u64) {
        self.buf.extend_from_slice(prefix.as_bytes());
        push_decimal(&mut self.buf, n);
        self.buf.push(b',');
    }

    /// `prefix` followed by `n`, or an empty field.
    #[inline]
    pub fn opt_id(&mut self, prefix: &str, n: Option<u64>) {
        match n {
            Some(n) => self.id(prefix, n),
            None => self.empty(),
        }
    }

    /// Seconds with milliseconds, as [`SimTime`]'s `Display` ("61.250").
    #[inline]
    pub fn time(&mut self, t: SimTime) {
        let ms = t.ms();
        push_decimal(&mut self.buf, ms / 1000);
        self.buf.extend_from_slice(&MILLIS[(ms % 1000) as usize]);
    }

    /// A time, or an empty field.
    #[inline]
    pub fn opt_time(&mut self, t: Option<SimTime>) {
        match t {
            Some(t) => self.time(t),
            None => self.empty(),
        }
    }

    /// Ends the row (its last `,` becomes `\n`); hands the buffer to the sink once it is large.
    pub fn end_row(&mut self) -> io::Result<()> {
        self.end_row_then(|_| ())
    }

    /// [`RowWriter::end_row`], handing the whole row (newline included) to `then` first.
    pub fn end_row_then(&mut self, then: impl FnOnce(&[u8])) -> io::Result<()> {
        match self.buf.last_mut() {
            Some(last @ b',') => *last = b'\n',
            _ => self.buf.push(b'\n'),
        }
        then(&self.buf[self.row_start..]);
        if self.buf.len() >= FLUSH_AT {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        self.row_start = self.buf.len();
        Ok(())
    }

    /// The fields written so far in the row not yet ended (each with its comma): a caller whose
    /// rows share leading fields copies them and writes them again with [`Self::encoded`].
    pub fn current_row(&self) -> &[u8] {
        &self.buf[self.row_start..]
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        self.row_start = 0;
        self.out.flush()
    }
}

/// `fields` as a row writes them, each followed by its comma: a writer that sees the same
/// texts again and again (a server's name, a state triple) encodes them once and copies the
/// bytes with [`RowWriter::encoded`].
pub fn encode(fields: &[&str]) -> Box<[u8]> {
    // Sized for the unquoted fields and their commas, so that a plain name (each server's, once)
    // is one allocation: growing and then shrinking to a box cost 380 instructions a name.
    let plain: usize = fields.iter().map(|f| f.len() + 1).sum();
    let mut buf = Vec::with_capacity(plain);
    for f in fields {
        put_field(&mut buf, f.as_bytes(), scan(f.as_bytes()));
    }
    buf.into_boxed_slice()
}

#[inline]
fn put_field(buf: &mut Vec<u8>, s: &[u8], how: Scan) {
    match how {
        Scan::Plain => {
            buf.extend_from_slice(s);
            buf.push(b',');
        }
        Scan::Quote => {
            buf.push(b'"');
            buf.extend_from_slice(s);
            buf.extend_from_slice(b"\",");
        }
        Scan::Escape => escaped(buf, s),
    }
}

/// `s` in quotes, its quotes doubled.
#[cold]
fn escaped(buf: &mut Vec<u8>, s: &[u8]) {
    buf.push(b'"');
    for part in s.split_inclusive(|&b| b == b'"') {
        buf.extend_from_slice(part);
        if part.last() == Some(&b'"') {
            buf.push(b'"');
        }
    }
    buf.extend_from_slice(b"\",");
}

/// How a text field is written.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Scan {
    /// As is.
    Plain,
    /// In quotes: it holds `,`, `\r` or `\n` but no `"`.
    Quote,
    /// In quotes with its quotes doubled.
    Escape,
}

/// One pass that stops at the first byte needing quotes; only a field that has one is read
/// again for `"` (rare: step texts have commas, not quotes). A lookup table, a word-at-a-time
/// test, a pass without early exit and `memchr` all cost more on these short fields.
#[inline]
fn scan(s: &[u8]) -> Scan {
    match s
        .iter()
        .position(|&b| matches!(b, b',' | b'"' | b'\r' | b'\n'))
    {
        None => Scan::Plain,
        Some(i) if s[i..].contains(&b'"') => Scan::Escape,
        Some(_) => Scan::Quote,
    }
}

#[inline]
fn push_decimal(buf: &mut Vec<u8>, n: u64) {
    buf.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// A sink a test can read after the writer is done with it.
#[cfg(test)]
#[derive(Clone, Default)]
pub(crate) struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

#[cfg(test)]
impl Shared {
    /// Everything written so far, as text.
    pub(crate) fn text(&self) -> String {
        let bytes = self.0.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8(bytes).unwrap_or_default()
    }
}

#[cfg(test)]
impl Write for Shared {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| io::Error::other("poisoned"))?
            .extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ours(rows: &[Vec<String>]) -> Vec<u8> {
        let sink = Shared::default();
        let header: Vec<&str> = rows[0].iter().map(String::as_str).collect();
        let mut w = RowWriter::new(Box::new(sink.clone()), &header).unwrap();
        for row in &rows[1..] {
            for f in row {
                w.text(f);
            }
            w.end_row().unwrap();
        }
        w.flush().unwrap();
        drop(w);
        let out = sink.0.lock().unwrap().clone();
        out
    }

    fn theirs(rows: &[Vec<String>]) -> Vec<u8> {
        let mut w = csv::Writer::from_writer(Vec::new());
        for row in rows {
            w.write_record(row).unwrap();
        }
        w.into_inner().unwrap()
    }

    #[test]
    fn numbers_and_times_format_like_display() {
        let sink = Shared::default();
        let mut w = RowWriter::new(Box::new(sink.clone()), &["a"]).unwrap();
        for ms in [0u64, 5, 61_250, 1_000, 123_456_789] {
            w.time(SimTime(ms));
        }
        w.uint(u64::MAX);
        for n in [0, 9, 10, 99_999_999, 100_000_000] {
            w.uint(n);
        }
        w.id("req-", 0);
        w.id("mig-", 40_213);
        w.opt_id("x-", None);
        w.opt_time(None);
        w.end_row().unwrap();
        w.flush().unwrap();
        drop(w);
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        assert_eq!(
            text,
            format!(
                "a\n0.000,0.005,61.250,1.000,123456.789,{},0,9,10,99999999,100000000,req-0,\
                 mig-40213,,\n",
                u64::MAX
            )
        );
    }

    #[test]
    fn large_output_is_flushed_in_order() {
        let rows: Vec<Vec<String>> = (0..20_000)
            .map(|i| vec![format!("row{i}"), "x,y".into(), "say \"hi\"".into()])
            .collect();
        assert_eq!(ours(&rows), theirs(&rows));
    }

    proptest! {
        /// Fields encoded ahead (`encode`) are the bytes `text` writes.
        #[test]
        fn encoded_fields_are_the_written_ones(
            cells in prop::collection::vec("[a-z ,\"\r\n]{0,6}", 1..6),
        ) {
            let refs: Vec<&str> = cells.iter().map(String::as_str).collect();
            let sink = Shared::default();
            let mut w = RowWriter::new(Box::new(sink.clone()), &["h"]).unwrap();
            for c in &refs {
                w.text(c);
            }
            w.end_row().unwrap();
            w.encoded(&encode(&refs));
            w.end_row().unwrap();
            w.flush().unwrap();
            drop(w);
            let out = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
            let body = &out["h\n".len()..];
            let (first, second) = body.split_at(body.len() / 2);
            prop_assert_eq!(first, second);
        }

        #[test]
        fn same_bytes_as_the_csv_crate(
            width in 1usize..5,
            cells in prop::collection::vec("[a-z ,\"\r\n\t;'-]{0,6}", 1..40),
        ) {
            let rows: Vec<Vec<String>> = cells.chunks(width).filter(|c| c.len() == width).map(<[String]>::to_vec).collect();
            prop_assume!(!rows.is_empty());
            // The csv crate writes a lone empty field as `""`; no trace file has one column.
            prop_assume!(width > 1 || rows.iter().all(|r| !r[0].is_empty()));
            prop_assert_eq!(ours(&rows), theirs(&rows));
        }
    }
}
