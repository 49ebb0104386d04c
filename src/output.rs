//! The folders novasim writes (a run's results, a sweep, redrawn plots), and the rules that keep
//! the user's own files safe:
//!
//! * a folder novasim wrote carries a marker file, [`MARKER`]; an existing path is only ever
//!   replaced when it is such a folder (or an empty folder). Anything else — a file, a symbolic
//!   link, a folder with other files — is refused before any work starts, and left intact;
//! * files are written into a hidden sibling, `.<name>.partial-<tag>`, moved into place only once
//!   complete. On Linux the new folder and the old one are exchanged in one atomic
//!   `renameat2(RENAME_EXCHANGE)`, so the previous result stays at its path until the new one
//!   replaces it; elsewhere the old folder is first renamed to `.<name>.old-<tag>`;
//! * `<tag>` is the process id and a start time. A later run removes the temporaries of dead
//!   processes, and puts a backup back at the results path when a kill left the path empty, so a
//!   rerun after a kill at any instant succeeds.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The file that marks a folder as written by novasim (and so replaceable by a later run).
pub const MARKER: &str = ".novasim-results";

/// Why an output folder cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error(
        "{path}: {what} that novasim did not write (no {MARKER} file); refusing to replace it — \
         choose another output folder, or remove it yourself"
    )]
    NotOurs { path: String, what: &'static str },
    #[error("{path}: not a folder name")]
    NoName { path: String },
    #[error("cannot write {path}: {source}")]
    Io { path: String, source: io::Error },
}

fn io_error(path: &Path) -> impl Fn(io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: crate::text::shown_path(path),
        source,
    }
}

/// Refuses `path` unless it is absent, an empty folder, or a folder novasim wrote.
pub fn check_replaceable(path: &Path) -> Result<(), OutputError> {
    let not_ours = |what| OutputError::NotOurs {
        path: crate::text::shown_path(path),
        what,
    };
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_error(path)(e)),
    };
    if meta.file_type().is_symlink() {
        return Err(not_ours("a symbolic link"));
    }
    if !meta.is_dir() {
        return Err(not_ours("a file"));
    }
    if fs::symlink_metadata(path.join(MARKER)).is_ok_and(|m| m.is_file()) {
        return Ok(());
    }
    let mut entries = fs::read_dir(path).map_err(io_error(path))?;
    if entries.next().is_none() {
        return Ok(());
    }
    Err(not_ours("a folder"))
}

/// The names of one process's temporaries beside the folder `leaf`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Temp {
    Partial,
    Old,
}

impl Temp {
    fn infix(self) -> &'static str {
        match self {
            Temp::Partial => "partial",
            Temp::Old => "old",
        }
    }

    fn name(self, leaf: &str, tag: &str) -> String {
        format!(".{leaf}.{}-{tag}", self.infix())
    }

    /// The tag of `name` if it is this kind of temporary of `leaf`.
    fn tag<'a>(self, name: &'a str, leaf: &str) -> Option<&'a str> {
        let tag = name
            .strip_prefix('.')?
            .strip_prefix(leaf)?
            .strip_prefix('.')?
            .strip_prefix(self.infix())?
            .strip_prefix('-')?;
        Tag::parse(tag).map(|_| tag)
    }
}

/// A process id and a start time in hex: `4242-18a3f…`.
struct Tag {
    pid: u32,
}

impl Tag {
    fn new_own() -> String {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        format!("{}-{nanos:x}", std::process::id())
    }

    fn parse(tag: &str) -> Option<Tag> {
        let (pid, time) = tag.split_once('-')?;
        let hex = !time.is_empty() && time.bytes().all(|b| b.is_ascii_hexdigit());
        (hex && pid.bytes().all(|b| b.is_ascii_digit()))
            .then(|| pid.parse().ok().map(|pid| Tag { pid }))
            .flatten()
    }

    /// Whether the process may still run. Where that cannot be told, it is taken as alive, so
    /// its files are kept.
    fn alive(&self) -> bool {
        #[cfg(unix)]
        {
            let Some(pid) = i32::try_from(self.pid)
                .ok()
                .and_then(rustix::process::Pid::from_raw)
            else {
                return false;
            };
            // Signal 0 tests for existence; EPERM means it exists under another user.
            !matches!(
                rustix::process::test_kill_process(pid),
                Err(rustix::io::Errno::SRCH)
            )
        }
        #[cfg(not(unix))]
        {
            true
        }
    }
}

/// Removes the temporaries that dead processes left beside `final_path` and, when a kill left
/// the results path empty between two renames, puts the backup of the previous result back.
fn clean_stale(parent: &Path, leaf: &str, final_path: &Path, own: &str) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    let mut stale: Vec<(Temp, PathBuf)> = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        for kind in [Temp::Partial, Temp::Old] {
            if let Some(tag) = kind.tag(name, leaf) {
                let dead = tag != own && Tag::parse(tag).is_some_and(|t| !t.alive());
                if dead {
                    stale.push((kind, entry.path()));
                }
            }
        }
    }
    // Backups first, oldest name first, so the result restored does not depend on the order
    // the folder lists its entries.
    stale.sort_by(|a, b| (a.0 != Temp::Old, &a.1).cmp(&(b.0 != Temp::Old, &b.1)));
    for (kind, path) in stale {
        let restore = kind == Temp::Old && fs::symlink_metadata(final_path).is_err();
        if restore && fs::rename(&path, final_path).is_ok() {
            continue;
        }
        let _ = fs::remove_dir_all(&path);
    }
}

/// A new file at `path`, written through a 64 KiB buffer.
pub fn buffered_file(path: &Path) -> io::Result<Box<dyn Write + Send>> {
    Ok(Box::new(BufWriter::with_capacity(
        1 << 16,
        fs::File::create(path)?,
    )))
}

/// An output folder written atomically (see the module doc). Dropped uncommitted, its hidden
/// folder is removed.
pub struct ResultsDir {
    final_path: PathBuf,
    tmp_path: PathBuf,
    parent: PathBuf,
    leaf: String,
    tag: String,
    committed: bool,
}

impl ResultsDir {
    /// Checks that `final_path` may be replaced, cleans what dead runs left beside it, and
    /// creates the hidden folder with its marker.
    pub fn create(final_path: &Path) -> Result<Self, OutputError> {
        check_replaceable(final_path)?;
        let name_error = || OutputError::NoName {
            path: crate::text::shown_path(final_path),
        };
        // `..`, `/` and the like name no folder of their own (and exist, so were refused above
        // unless novasim wrote them).
        let leaf = final_path
            .file_name()
            .ok_or_else(name_error)?
            .to_str()
            .ok_or_else(name_error)?
            .to_string();
        let parent = final_path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| Path::new("."))
            .to_path_buf();
        fs::create_dir_all(&parent).map_err(io_error(&parent))?;
        let tag = Tag::new_own();
        clean_stale(&parent, &leaf, final_path, &tag);
        let tmp_path = parent.join(Temp::Partial.name(&leaf, &tag));
        fs::create_dir(&tmp_path).map_err(io_error(&tmp_path))?;
        let dir = ResultsDir {
            final_path: final_path.to_path_buf(),
            tmp_path,
            parent,
            leaf,
            tag,
            committed: false,
        };
        let marker = dir.tmp_path.join(MARKER);
        fs::write(
            &marker,
            "This folder was written by novasim; a later run may replace it.\n",
        )
        .map_err(io_error(&marker))?;
        Ok(dir)
    }

    /// A new file in the folder, buffered in 64 KiB. The streamed files are written by the
    /// trace thread (`trace::pipe`), which makes their `write(2)` calls itself: a writer
    /// thread per file, which helped while the rows were formatted on the simulating thread,
    /// made the cold storm 6 % slower once the trace thread did that work (on two cores, six
    /// helper threads took turns with the simulation; 31 back-to-back pairs, ratio 0.944).
    pub fn file(&self, name: &str) -> io::Result<Box<dyn Write + Send>> {
        let file = fs::File::create(self.tmp_path.join(name))?;
        Ok(Box::new(BufWriter::with_capacity(1 << 16, file)))
    }

    pub fn path(&self) -> &Path {
        &self.final_path
    }

    /// The hidden folder the files are written to before `commit`.
    pub fn tmp_path(&self) -> &Path {
        &self.tmp_path
    }

    /// Moves the finished folder into place, replacing an older result of the same name.
    pub fn commit(mut self) -> Result<PathBuf, OutputError> {
        // Checked again: something may have appeared at the path while the run worked.
        check_replaceable(&self.final_path)?;
        let err = io_error(&self.final_path);
        if fs::symlink_metadata(&self.final_path).is_err() {
            fs::rename(&self.tmp_path, &self.final_path).map_err(err)?;
        } else if exchange(&self.tmp_path, &self.final_path).is_ok() {
            // The hidden folder now holds the previous result.
            let _ = fs::remove_dir_all(&self.tmp_path);
        } else {
            let old = self.parent.join(Temp::Old.name(&self.leaf, &self.tag));
            fs::rename(&self.final_path, &old).map_err(&err)?;
            // A kill here leaves the path empty: the next run puts `old` back (clean_stale).
            fs::rename(&self.tmp_path, &self.final_path).map_err(&err)?;
            let _ = fs::remove_dir_all(&old);
        }
        self.committed = true;
        Ok(self.final_path.clone())
    }
}

/// Swaps two paths atomically where the system can.
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::fs::{renameat_with, RenameFlags, CWD};
        renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(io::Error::from)
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let _ = (a, b);
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }
}

impl Drop for ResultsDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.tmp_path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "novasim-output-{name}-{}-{}",
            std::process::id(),
            Tag::new_own()
        ));
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn write_result(path: &Path, content: &str) -> PathBuf {
        let dir = ResultsDir::create(path).unwrap();
        fs::write(dir.tmp_path().join("summary.json"), content).unwrap();
        dir.commit().unwrap()
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    /// A pid that no process has: the highest the kernel hands out is below 2^22.
    const DEAD: &str = "4194999-1f";

    #[test]
    fn refuses_files_links_and_foreign_folders_and_leaves_them_intact() {
        let d = scratch("refuse");
        let file = d.join("notes.txt");
        fs::write(&file, "mine").unwrap();
        let folder = d.join("scenarios");
        fs::create_dir(&folder).unwrap();
        fs::write(folder.join("a.toml"), "x").unwrap();
        for p in [&file, &folder, &d.join("..")] {
            let e = ResultsDir::create(p).err().expect("refused");
            assert!(e.to_string().contains("refusing"), "{e}");
        }
        #[cfg(unix)]
        {
            let link = d.join("link");
            std::os::unix::fs::symlink(&folder, &link).unwrap();
            assert!(ResultsDir::create(&link).is_err());
        }
        assert_eq!(fs::read_to_string(&file).unwrap(), "mine");
        assert_eq!(names(&folder), ["a.toml"]);
        // Nothing was left beside them.
        assert!(names(&d).iter().all(|n| !n.contains("partial")));
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn replaces_its_own_folder_and_an_empty_one() {
        let d = scratch("replace");
        let out = d.join("teaching");
        fs::create_dir(&out).unwrap();
        write_result(&out, "one");
        write_result(&out, "two");
        assert_eq!(fs::read_to_string(out.join("summary.json")).unwrap(), "two");
        assert_eq!(names(&d), ["teaching"]);
        assert_eq!(names(&out), [MARKER, "summary.json"]);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_folder_that_appeared_during_the_run_is_not_replaced() {
        let d = scratch("appeared");
        let out = d.join("r");
        let dir = ResultsDir::create(&out).unwrap();
        fs::create_dir(&out).unwrap();
        fs::write(out.join("user.txt"), "keep").unwrap();
        assert!(dir.commit().is_err());
        assert_eq!(names(&out), ["user.txt"]);
        assert_eq!(names(&d), ["r"], "the hidden folder is removed");
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_rerun_cleans_what_killed_runs_left_and_restores_a_lost_result() {
        let d = scratch("killed");
        let out = d.join("teaching");
        write_result(&out, "good");
        // A run killed while writing, one killed between the two renames of the fallback
        // swap (the result moved to its backup, the path empty), and the backup name older
        // versions used.
        let partial = d.join(Temp::Partial.name("teaching", DEAD));
        fs::create_dir(&partial).unwrap();
        fs::write(partial.join("transitions.csv"), "half").unwrap();
        fs::rename(&out, d.join(Temp::Old.name("teaching", DEAD))).unwrap();
        // A live process's temporaries are left alone.
        let live = d.join(Temp::Partial.name("teaching", &Tag::new_own()));
        fs::create_dir(&live).unwrap();
        check_replaceable(&out).unwrap();
        clean_stale(&d, "teaching", &out, "0-0");
        assert_eq!(
            fs::read_to_string(out.join("summary.json")).unwrap(),
            "good",
            "the previous result is back at its path"
        );
        assert!(!partial.exists());
        assert!(live.exists());
        fs::remove_dir_all(&live).unwrap();
        write_result(&out, "new");
        assert_eq!(names(&d), ["teaching"]);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn tags_parse_only_their_own_shape() {
        assert_eq!(Temp::Partial.tag(".a.partial-12-ff", "a"), Some("12-ff"));
        assert_eq!(Temp::Old.tag(".a.old-12-ff", "a"), Some("12-ff"));
        assert_eq!(Temp::Partial.tag(".a.partial-x.partial-1-f", "a"), None);
        assert_eq!(Temp::Partial.tag(".ab.partial-1-f", "a"), None);
        assert_eq!(Temp::Partial.tag(".a.partial-1", "a"), None);
        assert!(Tag::parse(&Tag::new_own()).is_some_and(|t| t.alive()));
        assert!(Tag::parse(DEAD).is_some_and(|t| !t.alive()));
    }
}
