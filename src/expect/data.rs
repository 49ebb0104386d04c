//! The parts of a results folder the expectations read: transitions.csv (only the rows of the
//! servers they name, so a large trace is streamed, not held) and requests.csv.

use crate::engine::SimTime;
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// A state change of a server, as transitions.csv records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub time: SimTime,
    pub status: String,
    pub migration: String,
    pub migration_status: String,
}

/// One row of requests.csv.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub id: String,
    pub action: String,
    pub submitted: SimTime,
    pub answered: Option<SimTime>,
    pub http_code: Option<u16>,
    pub completed: Option<SimTime>,
    pub outcome: String,
    pub outcome_detail: String,
}

/// Why a results folder could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{path}: {source}")]
    Csv { path: String, source: csv::Error },
    #[error("{path}: no column {column:?}")]
    Column { path: String, column: String },
    #[error("{path}:{line}: bad {column} {value:?}")]
    Value {
        path: String,
        line: u64,
        column: String,
        value: String,
    },
}

/// Parses a trace time ("61.250": seconds with up to three decimals) into milliseconds with
/// integer arithmetic, so a time read back is exactly the time written.
pub fn parse_time(s: &str) -> Option<SimTime> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || frac.len() > 3 || !digits(whole) || !digits(frac) {
        return None;
    }
    let mut ms: u64 = whole.parse::<u64>().ok()?.checked_mul(1000)?;
    let mut scale = 100;
    for b in frac.bytes() {
        ms = ms.checked_add(u64::from(b - b'0') * scale)?;
        scale /= 10;
    }
    Some(SimTime(ms))
}

/// A CSV file read by column name.
struct Table {
    path: String,
    reader: csv::Reader<std::fs::File>,
    columns: HashMap<String, usize>,
}

impl Table {
    fn open(path: &Path) -> Result<Table, ReadError> {
        let name = path.display().to_string();
        let csv_err = |source| ReadError::Csv {
            path: name.clone(),
            source,
        };
        let mut reader = csv::Reader::from_path(path).map_err(csv_err)?;
        let columns = reader
            .headers()
            .map_err(csv_err)?
            .iter()
            .enumerate()
            .map(|(i, h)| (h.to_string(), i))
            .collect();
        Ok(Table {
            path: name,
            reader,
            columns,
        })
    }

    fn column(&self, name: &str) -> Result<usize, ReadError> {
        self.columns
            .get(name)
            .copied()
            .ok_or_else(|| ReadError::Column {
                path: self.path.clone(),
                column: name.to_string(),
            })
    }

    /// Calls `f` with each record and its line number.
    fn each(
        &mut self,
        mut f: impl FnMut(&csv::StringRecord, u64) -> Result<(), ReadError>,
    ) -> Result<(), ReadError> {
        let mut rec = csv::StringRecord::new();
        loop {
            let more = self
                .reader
                .read_record(&mut rec)
                .map_err(|source| ReadError::Csv {
                    path: self.path.clone(),
                    source,
                })?;
            if !more {
                return Ok(());
            }
            let line = rec.position().map_or(0, |p| p.line());
            f(&rec, line)?;
        }
    }

    fn bad(&self, line: u64, column: &str, value: &str) -> ReadError {
        ReadError::Value {
            path: self.path.clone(),
            line,
            column: column.to_string(),
            value: value.to_string(),
        }
    }
}

/// The changes of each server in `servers`, in trace order.
pub fn transitions(
    dir: &Path,
    servers: &HashSet<&str>,
) -> Result<HashMap<String, Vec<Change>>, ReadError> {
    let mut out: HashMap<String, Vec<Change>> = HashMap::new();
    if servers.is_empty() {
        return Ok(out);
    }
    let mut t = Table::open(&dir.join("transitions.csv"))?;
    let [time, server, status, migration, migration_status] = [
        "time_s",
        "server",
        "status",
        "migration",
        "migration_status",
    ]
    .map(|c| t.column(c));
    let (time, server, status, migration, migration_status) =
        (time?, server?, status?, migration?, migration_status?);
    let path = t.path.clone();
    t.each(|rec, line| {
        let field = |i: usize| rec.get(i).unwrap_or("");
        let name = field(server);
        if !servers.contains(name) {
            return Ok(());
        }
        let at = parse_time(field(time)).ok_or_else(|| ReadError::Value {
            path: path.clone(),
            line,
            column: "time_s".into(),
            value: field(time).into(),
        })?;
        out.entry(name.to_string()).or_default().push(Change {
            time: at,
            status: field(status).to_string(),
            migration: field(migration).to_string(),
            migration_status: field(migration_status).to_string(),
        });
        Ok(())
    })?;
    Ok(out)
}

/// Every row of requests.csv.
pub fn requests(dir: &Path) -> Result<Vec<Request>, ReadError> {
    let mut t = Table::open(&dir.join("requests.csv"))?;
    let cols = [
        "request",
        "action",
        "submitted_s",
        "answered_s",
        "http_code",
        "completed_s",
        "outcome",
        "outcome_detail",
    ];
    let mut idx = [0usize; 8];
    for (slot, c) in idx.iter_mut().zip(cols) {
        *slot = t.column(c)?;
    }
    let mut rows = Vec::new();
    let mut bad = None;
    t.each(|rec, line| {
        let field = |i: usize| rec.get(idx[i]).unwrap_or("");
        let opt_time = |i: usize| -> Result<Option<SimTime>, (u64, usize)> {
            let v = field(i);
            if v.is_empty() {
                return Ok(None);
            }
            parse_time(v).map(Some).ok_or((line, i))
        };
        let parsed = (|| {
            let submitted = parse_time(field(2)).ok_or((line, 2))?;
            let http_code = match field(4) {
                "" => None,
                v => Some(v.parse::<u16>().map_err(|_| (line, 4))?),
            };
            Ok::<_, (u64, usize)>(Request {
                id: field(0).to_string(),
                action: field(1).to_string(),
                submitted,
                answered: opt_time(3)?,
                http_code,
                completed: opt_time(5)?,
                outcome: field(6).to_string(),
                outcome_detail: field(7).to_string(),
            })
        })();
        match parsed {
            Ok(r) => rows.push(r),
            Err((line, i)) => {
                bad.get_or_insert((line, cols[i], field(i).to_string()));
            }
        }
        Ok(())
    })?;
    if let Some((line, column, value)) = bad {
        return Err(t.bad(line, column, &value));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_back_exactly() {
        assert_eq!(parse_time("61.250"), Some(SimTime(61_250)));
        assert_eq!(parse_time("0.005"), Some(SimTime(5)));
        assert_eq!(parse_time("7"), Some(SimTime(7_000)));
        assert_eq!(parse_time("7.5"), Some(SimTime(7_500)));
        for bad in ["", ".5", "1.2345", "-1", "1e3", "a.b"] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }
}
