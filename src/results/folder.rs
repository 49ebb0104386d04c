//! [`ResultsFolder`]: a results folder opened for reading, each file parsed the first time it
//! is asked for and kept, so that readers needing a few files (the charts, the report) never
//! parse the others and readers sharing a folder parse each file once.

use super::rows::{bad_value, CsvRow, Fields};
use super::{
    ActionEvent, Decision, ExpectationRow, HostRow, ReadError, Request, Summary, Throughput,
    ThroughputRow, Transition, EXPECTATIONS_FILE, SCENARIO_FILE, SUMMARY_FILE,
};
use crate::config::ActionKind;
use crate::model::Status;
use std::cell::OnceCell;
use std::path::{Path, PathBuf};

/// A results folder, read on demand.
#[derive(Debug)]
pub struct ResultsFolder {
    dir: PathBuf,
    transitions: OnceCell<Vec<Transition>>,
    requests: OnceCell<Vec<Request>>,
    decisions: OnceCell<Vec<Decision>>,
    events: OnceCell<Vec<ActionEvent>>,
    hosts: OnceCell<Vec<HostRow>>,
    throughput: OnceCell<Throughput>,
    summary: OnceCell<Summary>,
}

/// The rows of every row file (see [`ResultsFolder::into_rows`]).
#[derive(Debug)]
pub struct Rows {
    pub transitions: Vec<Transition>,
    pub requests: Vec<Request>,
    pub decisions: Vec<Decision>,
    pub events: Vec<ActionEvent>,
    pub hosts: Vec<HostRow>,
}

/// The cached value of `cell`, loaded by `load` the first time. (`OnceCell::get_or_try_init`
/// is not stable yet.)
fn cached<T>(
    cell: &OnceCell<T>,
    load: impl FnOnce() -> Result<T, ReadError>,
) -> Result<&T, ReadError> {
    if let Some(v) = cell.get() {
        return Ok(v);
    }
    let v = load()?;
    Ok(cell.get_or_init(|| v))
}

impl ResultsFolder {
    /// Opens `dir`; fails only when it is not a folder (each file is checked when read).
    pub fn open(dir: &Path) -> Result<ResultsFolder, ReadError> {
        if !dir.is_dir() {
            return Err(ReadError::NoFolder(dir.to_path_buf()));
        }
        Ok(ResultsFolder {
            dir: dir.to_path_buf(),
            transitions: OnceCell::new(),
            requests: OnceCell::new(),
            decisions: OnceCell::new(),
            events: OnceCell::new(),
            hosts: OnceCell::new(),
            throughput: OnceCell::new(),
            summary: OnceCell::new(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `dir/name`, or the error naming it when it is not a file.
    pub fn file(&self, name: &str) -> Result<PathBuf, ReadError> {
        let path = self.dir.join(name);
        if path.is_file() {
            Ok(path)
        } else if !self.dir.is_dir() {
            Err(ReadError::NoFolder(self.dir.clone()))
        } else {
            Err(ReadError::MissingFile(path))
        }
    }

    /// The text of `dir/name`.
    pub fn text(&self, name: &str) -> Result<String, ReadError> {
        let path = self.file(name)?;
        std::fs::read_to_string(&path).map_err(|source| ReadError::Io { path, source })
    }

    pub fn transitions(&self) -> Result<&[Transition], ReadError> {
        cached(&self.transitions, || self.rows()).map(Vec::as_slice)
    }

    pub fn requests(&self) -> Result<&[Request], ReadError> {
        cached(&self.requests, || self.rows()).map(Vec::as_slice)
    }

    /// scheduling.csv.
    pub fn decisions(&self) -> Result<&[Decision], ReadError> {
        cached(&self.decisions, || self.rows()).map(Vec::as_slice)
    }

    /// instance_actions.csv.
    pub fn action_events(&self) -> Result<&[ActionEvent], ReadError> {
        cached(&self.events, || self.rows()).map(Vec::as_slice)
    }

    pub fn hosts(&self) -> Result<&[HostRow], ReadError> {
        cached(&self.hosts, || self.rows()).map(Vec::as_slice)
    }

    /// Every row file, parsed and handed over rather than copied, for a reader that keeps the
    /// rows (`analysis::Results`): copying them held every row twice (timeline.json of the
    /// 100k-server cold storm: peak RSS of the run 1,475 → 1,088 MiB).
    pub fn into_rows(self) -> Result<Rows, ReadError> {
        self.transitions()?;
        self.requests()?;
        self.decisions()?;
        self.action_events()?;
        self.hosts()?;
        let ResultsFolder {
            transitions,
            requests,
            decisions,
            events,
            hosts,
            ..
        } = self;
        Ok(Rows {
            transitions: transitions.into_inner().unwrap_or_default(),
            requests: requests.into_inner().unwrap_or_default(),
            decisions: decisions.into_inner().unwrap_or_default(),
            events: events.into_inner().unwrap_or_default(),
            hosts: hosts.into_inner().unwrap_or_default(),
        })
    }

    pub fn throughput(&self) -> Result<&Throughput, ReadError> {
        cached(&self.throughput, || {
            Ok(Throughput {
                actions: ActionKind::ALL.iter().map(|a| a.as_str()).collect(),
                statuses: Status::ALL.to_vec(),
                rows: self.rows::<ThroughputRow>()?,
            })
        })
    }

    /// expectations.csv, `None` when the folder has none (a scenario without `[[expect]]`).
    pub fn expectations(&self) -> Result<Option<Vec<ExpectationRow>>, ReadError> {
        if !self.dir.join(EXPECTATIONS_FILE).is_file() {
            return Ok(None);
        }
        self.rows().map(Some)
    }

    /// summary.json.
    pub fn summary(&self) -> Result<&Summary, ReadError> {
        cached(&self.summary, || {
            let text = self.text(SUMMARY_FILE)?;
            serde_json::from_str(&text).map_err(|source| ReadError::Json {
                path: self.dir.join(SUMMARY_FILE),
                source,
            })
        })
    }

    /// summary.json as a JSON tree, for what walks every figure whatever its name (`diff`).
    pub fn summary_json(&self) -> Result<serde_json::Value, ReadError> {
        let text = self.text(SUMMARY_FILE)?;
        serde_json::from_str(&text).map_err(|source| ReadError::Json {
            path: self.dir.join(SUMMARY_FILE),
            source,
        })
    }

    /// scenario.toml's text, `None` when the folder has none (a golden trace).
    pub fn scenario_text(&self) -> Result<Option<String>, ReadError> {
        if !self.dir.join(SCENARIO_FILE).is_file() {
            return Ok(None);
        }
        self.text(SCENARIO_FILE).map(Some)
    }

    /// Every row of `R`'s file.
    fn rows<R: CsvRow>(&self) -> Result<Vec<R>, ReadError> {
        let mut out = Vec::new();
        self.each(|r: R| {
            out.push(r);
            Ok(true)
        })?;
        Ok(out)
    }

    /// Streams transitions.csv row by row without keeping it (large traces, few rows wanted);
    /// stops when `f` returns `Ok(false)`.
    pub fn each_transition(
        &self,
        f: impl FnMut(Transition) -> Result<bool, ReadError>,
    ) -> Result<(), ReadError> {
        match self.transitions.get() {
            Some(rows) => {
                let mut f = f;
                for r in rows {
                    if !f(r.clone())? {
                        break;
                    }
                }
                Ok(())
            }
            None => self.each(f),
        }
    }

    /// `R`'s file opened, its path and its header, checked against `R`'s.
    fn reader<R: CsvRow>(
        &self,
    ) -> Result<(PathBuf, csv::Reader<std::fs::File>, Vec<String>), ReadError> {
        let path = self.file(R::FILE)?;
        let file = std::fs::File::open(&path).map_err(|e| ReadError::Csv {
            path: path.clone(),
            source: e.into(),
        })?;
        let (reader, header) = checked_reader::<R, _>(&path, file)?;
        Ok((path, reader, header))
    }

    /// Calls `f` with each record of `R`'s file, unparsed (after checking the header): for a
    /// reader that needs a few columns of every row, or whole rows of a few (the timeline of
    /// a million servers, the charts). Parsing every row into owned strings cost most of their
    /// time (the charts of the 1,000,000-server drain: 3.0–3.4 s and 439 MiB of peak RSS with
    /// whole rows, 1.7–2.0 s and 133 MiB reading only the columns drawn; the timeline: see
    /// `analysis::timeline`'s reader).
    pub(crate) fn each_raw<R: CsvRow>(
        &self,
        f: impl FnMut(&RawRow<'_, R>) -> Result<bool, ReadError>,
    ) -> Result<(), ReadError> {
        let (path, reader, header) = self.reader::<R>()?;
        each_record(&path, reader, &header, f)
    }

    /// Calls `f` with each row of `R`'s file, after checking its header.
    fn each<R: CsvRow>(
        &self,
        mut f: impl FnMut(R) -> Result<bool, ReadError>,
    ) -> Result<(), ReadError> {
        let (path, mut reader, header) = self.reader::<R>()?;
        let csv_err = |source| ReadError::Csv {
            path: path.clone(),
            source,
        };
        let mut rec = csv::StringRecord::new();
        while reader.read_record(&mut rec).map_err(csv_err)? {
            let fields = Fields {
                path: &path,
                header: &header,
                rec: &rec,
            };
            if !f(R::parse(&fields)?)? {
                break;
            }
        }
        Ok(())
    }
}

/// A CSV reader of `R`'s rows from `source` (`path` names it in errors), its header read and
/// checked against `R`'s.
fn checked_reader<R: CsvRow, S: std::io::Read>(
    path: &Path,
    source: S,
) -> Result<(csv::Reader<S>, Vec<String>), ReadError> {
    let csv_err = |source| ReadError::Csv {
        path: path.to_path_buf(),
        source,
    };
    let mut reader = csv::ReaderBuilder::new()
        .buffer_capacity(1 << 16)
        .from_reader(source);
    let header: Vec<String> = reader
        .headers()
        .map_err(csv_err)?
        .iter()
        .map(str::to_string)
        .collect();
    check_header(path, &header, &R::header())?;
    Ok((reader, header))
}

/// Calls `f` with each record of `reader`, unparsed, until it returns `false`.
fn each_record<R: CsvRow, S: std::io::Read>(
    path: &Path,
    mut reader: csv::Reader<S>,
    header: &[String],
    mut f: impl FnMut(&RawRow<'_, R>) -> Result<bool, ReadError>,
) -> Result<(), ReadError> {
    let mut rec = csv::ByteRecord::new();
    while reader
        .read_byte_record(&mut rec)
        .map_err(|source| ReadError::Csv {
            path: path.to_path_buf(),
            source,
        })?
    {
        let row = RawRow {
            path,
            header,
            rec: &rec,
            row: std::marker::PhantomData,
        };
        if !f(&row)? {
            break;
        }
    }
    Ok(())
}

/// [`ResultsFolder::each_raw`] over rows held in memory: `bytes` is `R`'s file as written
/// (header first); `path` names it in errors.
pub(crate) fn each_raw_in<R: CsvRow>(
    path: &Path,
    bytes: &[u8],
    f: impl FnMut(&RawRow<'_, R>) -> Result<bool, ReadError>,
) -> Result<(), ReadError> {
    let (reader, header) = checked_reader::<R, _>(path, bytes)?;
    each_record(path, reader, &header, f)
}

/// One record of `R`'s file as read, its fields parsed only when asked for (see
/// [`ResultsFolder::each_raw`]).
pub(crate) struct RawRow<'a, R> {
    path: &'a Path,
    header: &'a [String],
    rec: &'a csv::ByteRecord,
    row: std::marker::PhantomData<R>,
}

impl<R: CsvRow> RawRow<'_, R> {
    /// Field `i` (empty when the row is shorter).
    pub fn bytes(&self, i: usize) -> &[u8] {
        self.rec.get(i).unwrap_or(b"")
    }

    /// Field `i` as text.
    pub fn str(&self, i: usize) -> Result<&str, ReadError> {
        std::str::from_utf8(self.bytes(i)).map_err(|_| self.bad(i, "UTF-8 text"))
    }

    pub fn time(&self, i: usize) -> Result<crate::engine::SimTime, ReadError> {
        self.str(i)
            .and_then(|s| super::parse_time(s).ok_or_else(|| self.bad(i, "a time in seconds")))
    }

    pub fn opt_time(&self, i: usize) -> Result<Option<crate::engine::SimTime>, ReadError> {
        match self.bytes(i) {
            b"" => Ok(None),
            _ => self.time(i).map(Some),
        }
    }

    pub fn uint(&self, i: usize) -> Result<u64, ReadError> {
        self.str(i)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| self.bad(i, "a non-negative integer"))
    }

    /// The whole row, typed (with the errors of [`CsvRow::parse`]).
    pub fn parse(&self) -> Result<R, ReadError> {
        let rec = csv::StringRecord::from_byte_record(self.rec.clone()).map_err(|e| {
            let i = e.utf8_error().field();
            self.bad(i, "UTF-8 text")
        })?;
        R::parse(&Fields {
            path: self.path,
            header: self.header,
            rec: &rec,
        })
    }

    pub fn bad(&self, i: usize, what: &'static str) -> ReadError {
        let value = String::from_utf8_lossy(self.bytes(i)).into_owned();
        bad_value(self.path, self.rec.position(), self.header, i, value, what)
    }
}

/// A name (host, server, migration) as a hash-map key, held inline up to 14 bytes (names such
/// as `vm1000000`, `cmp100000`, `req-1000000`), else behind a thin pointer, so
/// that a key is 16 bytes: a lookup among a million names then compares in place instead of
/// following a pointer to the heap, adding a name allocates nothing, and the table is half the
/// size. Measured on the 1,000,000-server drain's folder (≈ 6 M lookups): with `Box<str>` keys
/// instead, timeline.json took 4.8 s rather than 2.5 s, and the charts 2.7 s rather than 1.4 s.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum NameKey {
    Inline {
        len: u8,
        bytes: [u8; 14],
    },
    #[allow(clippy::box_collection)] // a thin pointer keeps the key 16 bytes
    Heap(Box<String>),
}

impl NameKey {
    pub fn new(name: &str) -> NameKey {
        let mut bytes = [0; 14];
        match bytes.get_mut(..name.len()) {
            Some(head) => {
                head.copy_from_slice(name.as_bytes());
                NameKey::Inline {
                    len: name.len() as u8,
                    bytes,
                }
            }
            None => NameKey::Heap(Box::new(name.to_string())),
        }
    }
}

/// The header must be the writer's, column for column: rows are read by position.
fn check_header(path: &Path, found: &[String], expected: &[String]) -> Result<(), ReadError> {
    for i in 0..found.len().max(expected.len()) {
        let (e, f) = (expected.get(i), found.get(i));
        if e != f {
            return Err(ReadError::Header {
                path: path.to_path_buf(),
                column: i + 1,
                expected: e.cloned().unwrap_or_else(|| "(no column)".into()),
                found: f.cloned().unwrap_or_else(|| "(no column)".into()),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file of every golden folder reads with the current headers, and the typed rows
    /// give back the times and states written.
    #[test]
    fn golden_folders_read() {
        for entry in std::fs::read_dir("tests/golden").expect("golden") {
            let dir = entry.expect("entry").path();
            let r = ResultsFolder::open(&dir).expect("open");
            let ok = |res: Result<usize, ReadError>| res.unwrap_or_else(|e| panic!("{e}"));
            assert!(ok(r.transitions().map(<[_]>::len)) > 0);
            ok(r.requests().map(<[_]>::len));
            ok(r.decisions().map(<[_]>::len));
            ok(r.action_events().map(<[_]>::len));
            ok(r.hosts().map(<[_]>::len));
            ok(r.throughput().map(|t| t.rows.len()));
            ok(r.summary().map(|s| s.actions.len()));
        }
        let r = ResultsFolder::open(Path::new("tests/golden/teaching")).expect("open");
        let t = &r.transitions().expect("rows")[0];
        assert_eq!((t.server.as_str(), t.status), ("vm1", Status::Active));
        assert_eq!(
            r.summary().expect("summary").end_time_s,
            Some(crate::engine::SimTime(202_020))
        );
    }

    #[test]
    fn a_bad_value_names_file_line_and_column() {
        let dir = std::env::temp_dir().join(format!("novasim-results-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let mut text =
            std::fs::read_to_string("tests/golden/teaching/transitions.csv").expect("read");
        text = text.replacen(",ACTIVE,", ",ACTIVATED,", 1);
        std::fs::write(dir.join("transitions.csv"), &text).expect("write");
        let r = ResultsFolder::open(&dir).expect("open");
        let err = r.transitions().expect_err("bad status").to_string();
        assert!(
            err.ends_with("transitions.csv:2:7: status = \"ACTIVATED\" is not a server status"),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1);
        std::fs::write(
            dir.join("transitions.csv"),
            text.replacen("hop,", "where,", 1),
        )
        .expect("write");
        let r = ResultsFolder::open(&dir).expect("open");
        let err = r.transitions().expect_err("bad header").to_string();
        assert!(
            err.ends_with("transitions.csv:1:10: column \"where\" where \"hop\" was expected"),
            "{err}"
        );
        let err = r.hosts().expect_err("missing").to_string();
        assert!(err.ends_with("hosts.csv: missing (not a complete results folder)"));
        std::fs::remove_dir_all(&dir).expect("rm");
    }
}
