//! The grid of a sweep: `--set key=v1,v2,…` value lists and `--seeds`, expanded into runs in a
//! fixed order (parameters in the order given, each through its values in the order given,
//! then seeds), which is the order of sweep.csv whatever the number of threads.

/// One swept option and its values (TOML value texts, as `--set` takes them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub key: String,
    pub values: Vec<String>,
}

/// One run of the grid: a value index per parameter, and the seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Point {
    pub values: Vec<usize>,
    pub seed: u64,
}

/// Parses `key=v1,v2,…`. Commas inside `[…]`, `{…}` or quotes do not split, so TOML arrays,
/// inline tables and strings can be values: `latency.api={ dist = "constant", ms = 50 },…`.
pub fn parse_param(s: &str) -> Result<Param, String> {
    let (key, list) = s
        .split_once('=')
        .ok_or_else(|| format!("--set {s}: expected SECTION.OPTION=V1,V2,…"))?;
    let key = key.trim();
    if key.is_empty() {
        return Err(format!("--set {s}: the option name is empty"));
    }
    if key == "seed" {
        return Err(format!("--set {s}: use --seeds to vary the seed"));
    }
    let values = split_values(list).map_err(|e| format!("--set {s}: {e}"))?;
    Ok(Param {
        key: key.to_string(),
        values,
    })
}

/// Splits at top-level commas; each value is trimmed and must not be empty.
fn split_values(list: &str) -> Result<Vec<String>, String> {
    let mut values = Vec::new();
    let mut depth: i32 = 0;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut cur = String::new();
    for c in list.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' && q == '"' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
                cur.push(c);
                continue;
            }
            None => match c {
                '"' | '\'' => quote = Some(c),
                '[' | '{' => depth += 1,
                ']' | '}' => depth -= 1,
                ',' if depth == 0 => {
                    values.push(std::mem::take(&mut cur));
                    continue;
                }
                _ => {}
            },
        }
        cur.push(c);
    }
    if quote.is_some() {
        return Err("unclosed quote".into());
    }
    if depth != 0 {
        return Err("unbalanced brackets".into());
    }
    values.push(cur);
    let values: Vec<String> = values.into_iter().map(|v| v.trim().to_string()).collect();
    if let Some(i) = values.iter().position(String::is_empty) {
        return Err(format!("value #{} is empty", i + 1));
    }
    Ok(values)
}

/// Most runs a sweep accepts: a guard against a mistyped range, not a limit of the code.
pub const MAX_RUNS: usize = 1_000_000;

/// Parses `--seeds`: `A..B` (both included), `A..=B`, `N`, or a comma list of these.
pub fn parse_seeds(s: &str) -> Result<Vec<u64>, String> {
    let mut seeds = Vec::new();
    for part in s.split(',').map(str::trim) {
        let num = |t: &str| {
            t.trim()
                .parse::<u64>()
                .map_err(|_| format!("--seeds {s}: {t:?} is not a seed (a non-negative integer)"))
        };
        match part.split_once("..") {
            Some((a, b)) => {
                let (a, b) = (num(a)?, num(b.strip_prefix('=').unwrap_or(b))?);
                if a > b {
                    return Err(format!("--seeds {s}: empty range {part}"));
                }
                if b - a >= MAX_RUNS as u64 {
                    return Err(format!("--seeds {s}: more than {MAX_RUNS} seeds"));
                }
                seeds.extend(a..=b);
            }
            None => seeds.push(num(part)?),
        }
    }
    Ok(seeds)
}

/// Every run of the grid, in sweep.csv order: the cartesian product of the parameters' value
/// lists (the first parameter varying slowest), each with every seed.
pub fn points(params: &[Param], seeds: &[u64]) -> Result<Vec<Point>, String> {
    let combos = params
        .iter()
        .try_fold(1usize, |n, p| n.checked_mul(p.values.len()))
        .filter(|n| n.saturating_mul(seeds.len()) <= MAX_RUNS)
        .ok_or_else(|| format!("the grid has more than {MAX_RUNS} runs"))?;
    let mut out = Vec::with_capacity(combos * seeds.len());
    for c in 0..combos {
        // Mixed-radix digits of `c`, most significant first.
        let mut values = vec![0; params.len()];
        let mut rest = c;
        for (slot, p) in values.iter_mut().zip(params).rev() {
            *slot = rest % p.values.len();
            rest /= p.values.len();
        }
        for &seed in seeds {
            out.push(Point {
                values: values.clone(),
                seed,
            });
        }
    }
    Ok(out)
}

impl Point {
    /// The `--set` overrides of this run, the seed last so it wins.
    pub fn overrides(&self, params: &[Param]) -> Vec<String> {
        params
            .iter()
            .zip(&self.values)
            .map(|(p, &v)| format!("{}={}", p.key, p.values[v]))
            .chain(std::iter::once(format!("seed={}", self.seed)))
            .collect()
    }

    /// A folder name for this run: `<key>=<value>-…-seed<N>`. Distinct runs always get distinct
    /// names (see [`value_labels`]), so kept runs never share a folder.
    pub fn label(&self, params: &[Param]) -> String {
        let mut parts: Vec<String> = params
            .iter()
            .zip(&self.values)
            .map(|(p, &v)| format!("{}={}", clean_key(&p.key), value_labels(p)[v]))
            .collect();
        parts.push(format!("seed{}", self.seed));
        parts.join("-")
    }
}

/// The key with characters other than letters, digits and `._+-` replaced by `_`.
fn clean_key(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._+-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Longest value written as itself in a folder name.
const MAX_VALUE_LABEL: usize = 40;

/// How each value of `p` appears in folder names: as itself (quotes of a string removed) when
/// that is short and made of lower-case letters, digits and `._+-` only, and unlike the other
/// values' texts; otherwise as `#<position>` (1-based). Texts kept as they are never contain `#`
/// or `=`, so labels are injective within a parameter, and the `=` signs of a whole label are
/// exactly its separators; lower case only, so a case-insensitive file system keeps them apart.
pub fn value_labels(p: &Param) -> Vec<String> {
    let readable = |v: &str| -> Option<String> {
        let inner = v
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .or_else(|| v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
            .unwrap_or(v);
        let ok = !inner.is_empty()
            && inner.len() <= MAX_VALUE_LABEL
            && inner
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._+-".contains(c));
        ok.then(|| inner.to_string())
    };
    let texts: Vec<Option<String>> = p.values.iter().map(|v| readable(v)).collect();
    texts
        .iter()
        .enumerate()
        .map(|(i, t)| match t {
            Some(t) if texts.iter().filter(|o| o.as_ref() == Some(t)).count() == 1 => t.clone(),
            _ => format!("#{}", i + 1),
        })
        .collect()
}

/// Refuses a grid that sets one option twice (by `--set` or by a value listed twice): two runs
/// would be the same run.
pub fn check_distinct(params: &[Param]) -> Result<(), String> {
    for (i, p) in params.iter().enumerate() {
        if params[..i].iter().any(|q| q.key == p.key) {
            return Err(format!(
                "--set {}: the option is swept twice",
                crate::text::shown(&p.key)
            ));
        }
        for (j, v) in p.values.iter().enumerate() {
            if p.values[..j].contains(v) {
                return Err(format!(
                    "--set {}: the value {} is listed twice",
                    crate::text::shown(&p.key),
                    crate::text::shown(v)
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_split_at_top_level_commas_only() {
        let p = parse_param("nova.DEFAULT.resize_confirm_window=60, 120,300").expect("ok");
        assert_eq!(p.key, "nova.DEFAULT.resize_confirm_window");
        assert_eq!(p.values, ["60", "120", "300"]);
        let p = parse_param(
            r#"latency.api={ dist = "uniform", min_ms = 1, max_ms = 2 },{ dist = "constant", ms = 5 }"#,
        )
        .expect("ok");
        assert_eq!(p.values.len(), 2);
        let p = parse_param(r#"x=[1, 2],"a,b",'c,d'"#).expect("ok");
        assert_eq!(p.values, ["[1, 2]", "\"a,b\"", "'c,d'"]);
        assert!(parse_param("x=1,,2").is_err());
        assert!(parse_param("x=[1,2").is_err());
        assert!(parse_param("novalue").is_err());
        assert!(parse_param("seed=1,2").is_err());
    }

    #[test]
    fn seeds_ranges_and_lists() {
        assert_eq!(parse_seeds("1..3").expect("ok"), [1, 2, 3]);
        assert_eq!(parse_seeds("1..=2,7").expect("ok"), [1, 2, 7]);
        assert_eq!(parse_seeds("5").expect("ok"), [5]);
        assert!(parse_seeds("3..1").is_err());
        assert!(parse_seeds("a").is_err());
        assert!(parse_seeds("0..99999999").is_err());
    }

    #[test]
    fn grid_order_is_first_parameter_slowest_then_seed() {
        let params = vec![
            Param {
                key: "a".into(),
                values: vec!["1".into(), "2".into()],
            },
            Param {
                key: "b".into(),
                values: vec!["x".into(), "y".into(), "z".into()],
            },
        ];
        let pts = points(&params, &[7, 8]).expect("ok");
        assert_eq!(pts.len(), 12);
        assert_eq!(pts[0].values, [0, 0]);
        assert_eq!(
            pts[1],
            Point {
                values: vec![0, 0],
                seed: 8
            }
        );
        assert_eq!(pts[2].values, [0, 1]);
        assert_eq!(pts[6].values, [1, 0]);
        assert_eq!(pts[3].overrides(&params), ["a=1", "b=y", "seed=8"]);
        assert_eq!(pts[3].label(&params), "a=1-b=y-seed8");
    }

    fn param(key: &str, values: &[&str]) -> Param {
        Param {
            key: key.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    /// Values that would clean to the same text, or be the same text in another case, get
    /// their position instead; every run of a grid has its own folder.
    #[test]
    fn labels_are_injective() {
        let p = param(
            "latency.api",
            &[
                "1",
                "\"1\"",
                "\"rocky\"",
                "{ dist = \"constant\", ms = 5 }",
                "{ dist = \"constant\", ms = 6 }",
                "1E3",
                "1e3",
            ],
        );
        assert_eq!(
            value_labels(&p),
            ["#1", "#2", "rocky", "#4", "#5", "#6", "1e3"]
        );
        let params = vec![p, param("b", &["-1", "1-b"])];
        let pts = points(&params, &[1, 2]).expect("ok");
        let labels: std::collections::BTreeSet<String> = pts
            .iter()
            .map(|pt| pt.label(&params).to_lowercase())
            .collect();
        assert_eq!(labels.len(), pts.len());
    }

    #[test]
    fn an_option_or_a_value_given_twice_is_refused() {
        assert!(check_distinct(&[param("a", &["1", "2"]), param("b", &["1"])]).is_ok());
        let e = check_distinct(&[param("a", &["1", "2", "1"])]).unwrap_err();
        assert!(e.contains("listed twice"), "{e}");
        let e = check_distinct(&[param("a", &["1"]), param("a", &["2"])]).unwrap_err();
        assert!(e.contains("swept twice"), "{e}");
        assert_eq!(points(&[], &[1, 2]).expect("ok").len(), 2);
    }
}
