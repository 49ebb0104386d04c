//! A Rally task file as Rally reads it: a Jinja2 template rendered with the task arguments
//! (`rally.api._Task.render_template`), then YAML or JSON, then format v1 or v2 normalised to
//! subtasks of workloads (`rally.task.task_cfg.TaskConfig`).

use super::RallyError;
use serde_json::{Map, Value};
use std::path::Path;

/// One workload: a scenario with its arguments, runner, contexts and SLA.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadCfg {
    pub scenario: String,
    pub args: Map<String, Value>,
    pub runner_type: String,
    pub runner: Map<String, Value>,
    pub contexts: Map<String, Value>,
    pub sla: Map<String, Value>,
    pub description: String,
    /// Where the workload sits in the task, for error messages (`subtasks[0].workloads[1]`).
    pub path: String,
    /// Line of the scenario name in the task file (before rendering), when it can be found.
    pub line: Option<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SubtaskCfg {
    pub title: String,
    pub description: String,
    pub workloads: Vec<WorkloadCfg>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TaskCfg {
    pub title: String,
    pub description: String,
    pub subtasks: Vec<SubtaskCfg>,
}

/// Parses `--task-args` (YAML or JSON, a mapping).
pub fn parse_args(text: &str, origin: &str) -> Result<Map<String, Value>, RallyError> {
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    let v: Value = serde_yaml_ng::from_str(text).map_err(|e| RallyError::Task {
        file: origin.to_string(),
        line: e.location().map(|l| l.line()),
        message: format!("task arguments are not YAML or JSON: {e}"),
    })?;
    match v {
        Value::Object(m) => Ok(m),
        Value::Null => Ok(Map::new()),
        other => Err(RallyError::Task {
            file: origin.to_string(),
            line: None,
            message: format!("task arguments must be a mapping, not {}", kind(&other)),
        }),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// `is_really_missing` of `render_template`: a variable with a default (`{% set x = x or … %}`
/// or `x | default(`) is not missing.
fn is_really_missing(name: &str, template: &str) -> bool {
    let bytes = template.as_bytes();
    let ws = |i: &mut usize| {
        while *i < bytes.len() && bytes[*i].is_ascii_whitespace() {
            *i += 1;
        }
    };
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    // {%\s*set\s+NAME\s*=\s*NAME[^\w]+
    for (start, _) in template.match_indices("{%") {
        let mut i = start + 2;
        ws(&mut i);
        if !template[i..].starts_with("set") {
            continue;
        }
        i += 3;
        let before = i;
        ws(&mut i);
        if i == before || !template[i..].starts_with(name) {
            continue;
        }
        i += name.len();
        ws(&mut i);
        if !template[i..].starts_with('=') {
            continue;
        }
        i += 1;
        ws(&mut i);
        if template[i..].starts_with(name) && bytes.get(i + name.len()).is_some_and(|&c| !word(c)) {
            return false;
        }
    }
    // NAME\s*\|\s*default\(
    for (start, _) in template.match_indices(name) {
        let mut i = start + name.len();
        ws(&mut i);
        if !template[i..].starts_with('|') {
            continue;
        }
        i += 1;
        ws(&mut i);
        if template[i..].starts_with("default(") {
            return false;
        }
    }
    true
}

/// Renders the template `text` of `file` with `args` (Rally's render_template).
pub fn render(text: &str, file: &str, args: &Map<String, Value>) -> Result<String, RallyError> {
    let terr = |e: minijinja::Error| RallyError::Task {
        file: file.to_string(),
        line: e.line(),
        message: format!(
            "template error: {}",
            e.detail().unwrap_or(&e.kind().to_string())
        ),
    };
    let mut env = minijinja::Environment::new();
    env.set_keep_trailing_newline(true);
    env.add_template("task", text).map_err(terr)?;
    let tmpl = env.get_template("task").map_err(terr)?;
    let mut missing: Vec<String> = tmpl
        .undeclared_variables(false)
        .into_iter()
        .filter(|v| !args.contains_key(v) && !env.globals().any(|(g, _)| g == v.as_str()))
        .filter(|v| is_really_missing(v, text))
        .collect();
    missing.sort();
    if !missing.is_empty() {
        let msg = if missing.len() > 1 {
            "Please specify next template task arguments: "
        } else {
            "Please specify template task argument: "
        };
        return Err(RallyError::Task {
            file: file.to_string(),
            line: line_of(text, &missing[0]),
            message: format!("{msg}{}", missing.join(", ")),
        });
    }
    tmpl.render(args).map_err(terr)
}

/// The 1-based line of the first occurrence of `needle` in `text`.
pub fn line_of(text: &str, needle: &str) -> Option<usize> {
    text.find(needle)
        .map(|at| text[..at].matches('\n').count() + 1)
}

/// Loads the task file at `path`: rendered, parsed, normalised.
pub fn load(path: &Path, args: &Map<String, Value>) -> Result<TaskCfg, RallyError> {
    let file = crate::text::shown_path(path);
    let text = std::fs::read_to_string(path).map_err(|e| RallyError::Task {
        file: file.clone(),
        line: None,
        message: format!("cannot read the task file: {e}"),
    })?;
    parse(&text, &file, args)
}

/// [`load`] of a task text already read.
pub fn parse(text: &str, file: &str, args: &Map<String, Value>) -> Result<TaskCfg, RallyError> {
    let rendered = render(text, file, args)?;
    let value: Value = serde_yaml_ng::from_str(&rendered).map_err(|e| RallyError::Task {
        file: file.to_string(),
        line: e.location().map(|l| l.line()),
        message: format!("the rendered task is not YAML or JSON: {e}"),
    })?;
    let err = |path: &str, message: String| RallyError::Task {
        file: file.to_string(),
        line: None,
        message: if path.is_empty() {
            message
        } else {
            format!("{path}: {message}")
        },
    };
    let Value::Object(top) = value else {
        return Err(err(
            "",
            format!("a task is a mapping, not {}", kind(&value)),
        ));
    };
    let mut task = match top.get("version") {
        Some(v) if v.as_u64() == Some(2) || v.as_str() == Some("2") => v2(&top, &err)?,
        Some(v) if v.as_u64() == Some(1) || v.as_str() == Some("1") => {
            let mut rest = top.clone();
            rest.remove("version");
            v1(&rest, &err)?
        }
        Some(v) => {
            return Err(err(
                "version",
                format!(
                    "Task configuration version {v} is not supported. Supported versions: 1, 2"
                ),
            ))
        }
        None => v1(&top, &err)?,
    };
    for s in &mut task.subtasks {
        for w in &mut s.workloads {
            w.line = line_of(text, &w.scenario);
        }
    }
    Ok(task)
}

type Err<'a> = &'a dyn Fn(&str, String) -> RallyError;

fn object(v: Option<&Value>, path: &str, err: Err) -> Result<Map<String, Value>, RallyError> {
    match v {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(other) => Err(err(path, format!("must be a mapping, not {}", kind(other)))),
    }
}

fn string(v: Option<&Value>, path: &str, err: Err) -> Result<String, RallyError> {
    match v {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(err(path, format!("must be a string, not {}", kind(other)))),
    }
}

/// `{name: value}` with exactly one key (v2's scenario and runner).
fn single(v: Option<&Value>, path: &str, err: Err) -> Result<(String, Value), RallyError> {
    let m = object(v, path, err)?;
    if m.len() != 1 {
        return Err(err(
            path,
            format!("must have exactly one key, not {}", m.len()),
        ));
    }
    let (k, v) = m.into_iter().next().expect("one key");
    Ok((k, v))
}

fn workload_v2(w: &Map<String, Value>, path: &str, err: Err) -> Result<WorkloadCfg, RallyError> {
    for k in w.keys() {
        if !matches!(
            k.as_str(),
            "scenario" | "runner" | "contexts" | "sla" | "hooks" | "description" | "title" | "tags"
        ) {
            return Err(err(
                path,
                format!("Additional properties are not allowed ('{k}' was unexpected)"),
            ));
        }
    }
    if !w.contains_key("scenario") {
        return Err(err(path, "'scenario' is a required property".into()));
    }
    let (scenario, args) = single(w.get("scenario"), &format!("{path}.scenario"), err)?;
    let args = object(Some(&args), &format!("{path}.scenario.{scenario}"), err)?;
    let (runner_type, runner) = match w.get("runner") {
        None => ("serial".to_string(), Map::new()),
        Some(r) => {
            let (t, c) = single(Some(r), &format!("{path}.runner"), err)?;
            let c = object(Some(&c), &format!("{path}.runner.{t}"), err)?;
            (t, c)
        }
    };
    Ok(WorkloadCfg {
        scenario,
        args,
        runner_type,
        runner,
        contexts: object(w.get("contexts"), &format!("{path}.contexts"), err)?,
        sla: sla_or_default(w.get("sla"), &format!("{path}.sla"), err)?,
        description: string(w.get("description"), &format!("{path}.description"), err)?,
        path: path.to_string(),
        line: None,
    })
}

/// `wconf.setdefault("sla", {"failure_rate": {"max": 0}})` (TaskConfig).
fn sla_or_default(
    v: Option<&Value>,
    path: &str,
    err: Err,
) -> Result<Map<String, Value>, RallyError> {
    match v {
        None => {
            let mut m = Map::new();
            m.insert("failure_rate".into(), serde_json::json!({"max": 0}));
            Ok(m)
        }
        Some(v) => object(Some(v), path, err),
    }
}

fn v2(top: &Map<String, Value>, err: Err) -> Result<TaskCfg, RallyError> {
    for k in top.keys() {
        if !matches!(
            k.as_str(),
            "version" | "title" | "description" | "tags" | "subtasks"
        ) {
            return Err(err(
                "",
                format!("Additional properties are not allowed ('{k}' was unexpected)."),
            ));
        }
    }
    for k in ["title", "subtasks"] {
        if !top.contains_key(k) {
            return Err(err(
                "",
                format!("'{k}' is a required property, but it is missed."),
            ));
        }
    }
    let Some(Value::Array(subs)) = top.get("subtasks") else {
        return Err(err("subtasks", "must be a list".into()));
    };
    let mut subtasks = Vec::new();
    for (i, s) in subs.iter().enumerate() {
        let path = format!("subtasks[{i}]");
        let Value::Object(s) = s else {
            return Err(err(&path, format!("must be a mapping, not {}", kind(s))));
        };
        let title = string(s.get("title"), &format!("{path}.title"), err)?;
        let workloads = match s.get("workloads") {
            Some(Value::Array(ws)) => {
                let mut out = Vec::new();
                for (j, w) in ws.iter().enumerate() {
                    let wpath = format!("{path}.workloads[{j}]");
                    let w = object(Some(w), &wpath, err)?;
                    out.push(workload_v2(&w, &wpath, err)?);
                }
                out
            }
            Some(other) => {
                return Err(err(
                    &format!("{path}.workloads"),
                    format!("must be a list, not {}", kind(other)),
                ))
            }
            None => {
                let mut inline = s.clone();
                inline.remove("title");
                let desc = inline.remove("description");
                let mut w = workload_v2(&inline, &path, err)?;
                w.description = string(desc.as_ref(), &format!("{path}.description"), err)?;
                vec![w]
            }
        };
        subtasks.push(SubtaskCfg {
            title,
            description: string(s.get("description"), &format!("{path}.description"), err)?,
            workloads,
        });
    }
    Ok(TaskCfg {
        title: string(top.get("title"), "title", err)?,
        description: string(top.get("description"), "description", err)?,
        subtasks,
    })
}

/// `TaskConfig._process_1`: `{"Scenario.name": [{args, runner: {type, …}, context, sla}]}`.
fn v1(top: &Map<String, Value>, err: Err) -> Result<TaskCfg, RallyError> {
    let mut subtasks = Vec::new();
    for (name, ws) in top {
        let Value::Array(ws) = ws else {
            return Err(err(name, format!("must be a list, not {}", kind(ws))));
        };
        let mut workloads = Vec::new();
        for (j, w) in ws.iter().enumerate() {
            let path = format!("{name}[{j}]");
            let w = object(Some(w), &path, err)?;
            for k in w.keys() {
                if !matches!(
                    k.as_str(),
                    "args" | "runner" | "context" | "sla" | "hooks" | "description"
                ) {
                    return Err(err(
                        &path,
                        format!("Additional properties are not allowed ('{k}' was unexpected)"),
                    ));
                }
            }
            let (runner_type, runner) = match w.get("runner") {
                None => ("serial".to_string(), Map::new()),
                Some(r) => {
                    let mut r = object(Some(r), &format!("{path}.runner"), err)?;
                    let t = match r.remove("type") {
                        Some(Value::String(t)) => t,
                        _ => {
                            return Err(err(
                                &format!("{path}.runner"),
                                "'type' is a required property".into(),
                            ))
                        }
                    };
                    (t, r)
                }
            };
            workloads.push(WorkloadCfg {
                scenario: name.clone(),
                args: object(w.get("args"), &format!("{path}.args"), err)?,
                runner_type,
                runner,
                contexts: object(w.get("context"), &format!("{path}.context"), err)?,
                sla: sla_or_default(w.get("sla"), &format!("{path}.sla"), err)?,
                description: string(w.get("description"), &format!("{path}.description"), err)?,
                path,
                line: None,
            });
        }
        subtasks.push(SubtaskCfg {
            title: name.clone(),
            description: String::new(),
            workloads,
        });
    }
    Ok(TaskCfg {
        title: "Task".into(),
        description: String::new(),
        subtasks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(j: &str) -> Map<String, Value> {
        parse_args(j, "args").unwrap()
    }

    #[test]
    fn v1_and_v2_normalise_alike() {
        let v1 = r#"{"NovaServers.boot_and_delete_server": [{"args": {"flavor": {"name": "m1.tiny"}},
            "runner": {"type": "constant", "times": 4, "concurrency": 2}}]}"#;
        let v2 = "version: 2\ntitle: t\nsubtasks:\n- title: s\n  scenario:\n    NovaServers.boot_and_delete_server:\n      flavor: {name: m1.tiny}\n  runner:\n    constant: {times: 4, concurrency: 2}\n";
        let a = parse(v1, "a.json", &Map::new()).unwrap();
        let b = parse(v2, "b.yaml", &Map::new()).unwrap();
        let (wa, wb) = (&a.subtasks[0].workloads[0], &b.subtasks[0].workloads[0]);
        assert_eq!(wa.scenario, wb.scenario);
        assert_eq!(wa.args, wb.args);
        assert_eq!((&wa.runner_type, &wa.runner), (&wb.runner_type, &wb.runner));
        // TaskConfig's default SLA.
        assert_eq!(wa.sla["failure_rate"], serde_json::json!({"max": 0}));
        assert_eq!(b.subtasks[0].workloads[0].line, Some(6));
    }

    #[test]
    fn templates_render_with_defaults_loops_and_args() {
        let t = "{% set n = n or 3 %}\nversion: 2\ntitle: t\nsubtasks:\n{% for i in range(2) %}\n- title: s{{ i }}\n  scenario: {NovaServers.boot_and_delete_server: {flavor: {name: \"{{ f }}\"}}}\n  runner: {constant: {times: {{ n }}}}\n{% endfor %}\n";
        let task = parse(t, "t.yaml", &args(r#"{"f": "m1.small"}"#)).unwrap();
        assert_eq!(task.subtasks.len(), 2);
        assert_eq!(task.subtasks[1].title, "s1");
        let w = &task.subtasks[0].workloads[0];
        assert_eq!(w.runner["times"], 3);
        assert_eq!(w.args["flavor"]["name"], "m1.small");
        assert_eq!(w.runner_type, "constant");
    }

    #[test]
    fn a_missing_argument_is_named_with_its_line() {
        let t =
            "version: 2\ntitle: t\nsubtasks:\n- title: s\n  scenario: {X.y: {a: \"{{ zz }}\"}}\n";
        let e = parse(t, "t.yaml", &Map::new()).unwrap_err().to_string();
        assert_eq!(e, "t.yaml:5: Please specify template task argument: zz");
    }

    #[test]
    fn a_bad_template_names_its_line() {
        let t = "version: 2\ntitle: t\n{% if x %}\nsubtasks: []\n";
        let e = parse(t, "t.yaml", &args("{x: 1}")).unwrap_err().to_string();
        assert!(e.starts_with("t.yaml:3: template error"), "{e}");
    }

    #[test]
    fn bad_yaml_names_its_line() {
        let t = "version: 2\ntitle: t\nsubtasks:\n  - title: [\n";
        let e = parse(t, "t.yaml", &Map::new()).unwrap_err().to_string();
        assert!(e.starts_with("t.yaml:"), "{e}");
        assert!(e.contains("not YAML or JSON"), "{e}");
    }
}
