//! Errors of loading a scenario. Each one is a single line naming the file, the line and
//! column, the key, and what is wrong.

use std::path::PathBuf;

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The scenario file could not be read.
    #[error("{}: cannot read: {source}", crate::text::shown_path(path))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML.
    #[error("{}", location(file, *line, *col, message))]
    Syntax {
        file: String,
        line: usize,
        col: usize,
        message: String,
    },
    /// The file is valid TOML but not a valid scenario (unknown key, wrong type, unknown name,
    /// impossible value …). `key` is the dotted path of the offending key, e.g.
    /// `servers[2].flavor`. `line`/`col` are 1-based; both are 0 when the value came from a
    /// `--set` override rather than from the file (the message then starts with `--set …`).
    #[error("{}", location(file, *line, *col, message))]
    Invalid {
        file: String,
        line: usize,
        col: usize,
        key: String,
        message: String,
    },
}

impl ScenarioError {
    /// The message without the location prefix.
    pub fn message(&self) -> String {
        match self {
            ScenarioError::Io { source, .. } => format!("cannot read: {source}"),
            ScenarioError::Syntax { message, .. } | ScenarioError::Invalid { message, .. } => {
                message.clone()
            }
        }
    }

    /// The 1-based line of the error in its file, if it has one.
    pub fn line(&self) -> Option<usize> {
        match self {
            ScenarioError::Syntax { line, .. } | ScenarioError::Invalid { line, .. }
                if *line > 0 =>
            {
                Some(*line)
            }
            _ => None,
        }
    }
}

/// `file:line:col: message`, or `file: message` when there is no position (overrides).
/// The file name and the message are shown with their control characters escaped: both may
/// carry user text (a path, a `--set`, a name) and the error must stay one harmless line.
fn location(file: &str, line: usize, col: usize, message: &str) -> String {
    let (file, message) = (crate::text::shown(file), crate::text::shown(message));
    if line == 0 {
        format!("{file}: {message}")
    } else {
        format!("{file}:{line}:{col}: {message}")
    }
}

/// 1-based line and column (in characters) of byte `offset` of `text`.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut line = 1;
    let mut col = 1;
    for (i, c) in text.char_indices() {
        if i >= offset {
            break;
        }
        if c == '\n' {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
    }
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_chars() {
        let t = "ab\ncé\nx";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 3), (2, 1));
        assert_eq!(line_col(t, 4), (2, 2));
        // inside a multi-byte char and past the end never panic
        assert_eq!(line_col(t, 6), (2, 3));
        assert_eq!(line_col(t, 100), (3, 2));
    }

    #[test]
    fn display_with_and_without_position() {
        let e = ScenarioError::Invalid {
            file: "x.toml".into(),
            line: 3,
            col: 7,
            key: "seed".into(),
            message: "seed: bad".into(),
        };
        assert_eq!(e.to_string(), "x.toml:3:7: seed: bad");
        let e = ScenarioError::Invalid {
            file: "x.toml".into(),
            line: 0,
            col: 0,
            key: "seed".into(),
            message: "--set seed=x: seed: bad".into(),
        };
        assert_eq!(e.to_string(), "x.toml: --set seed=x: seed: bad");
    }
}
