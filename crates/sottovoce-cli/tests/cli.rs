//! The `sottovoce` binary as a person meets it: bad inputs, `--help`, shell completions and a
//! chat typed on standard input.
//!
//! The cases are data (`tests/fixtures/cli/cases.json`, each an argument list and what is typed,
//! with the exit status and the substrings stdout and stderr must and must not hold); this file runs them.
//! Paths in the cases are relative to the repository root, where the binary runs.

use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    /// What the case checks, for the failure message.
    name: String,
    args: Vec<String>,
    /// Environment variables to set; `RUST_BACKTRACE` is removed unless set here.
    #[serde(default)]
    env: Vec<(String, String)>,
    exit: i32,
    #[serde(default)]
    stdout: Vec<String>,
    #[serde(default)]
    stderr: Vec<String>,
    /// Substrings stdout must not hold.
    #[serde(default)]
    stdout_not: Vec<String>,
    #[serde(default)]
    stderr_not: Vec<String>,
    /// The least number of lines stdout must have (a completion script is long).
    #[serde(default)]
    stdout_min_lines: usize,
    /// What to type on standard input (`sottovoce chat`); none: an empty input.
    #[serde(default)]
    stdin: String,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn cli_cases() {
    let text = std::fs::read_to_string(root().join("tests/fixtures/cli/cases.json")).unwrap();
    let cases: Vec<Case> = serde_json::from_str(&text).unwrap();
    assert!(!cases.is_empty());
    let mut failures = Vec::new();
    for case in &cases {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sottovoce"));
        command.args(&case.args).current_dir(root()).env_remove("RUST_BACKTRACE").env_remove("RUST_LIB_BACKTRACE");
        for (k, v) in &case.env {
            command.env(k, v);
        }
        command.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
        let mut child = command.spawn().unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), case.stdin.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        let mut wrong = Vec::new();
        if out.status.code() != Some(case.exit) {
            wrong.push(format!("exit {:?}, expected {}", out.status.code(), case.exit));
        }
        wrong.extend(case.stdout.iter().filter(|s| !stdout.contains(s.as_str())).map(|s| format!("stdout lacks {s:?}")));
        wrong.extend(case.stderr.iter().filter(|s| !stderr.contains(s.as_str())).map(|s| format!("stderr lacks {s:?}")));
        wrong.extend(case.stdout_not.iter().filter(|s| stdout.contains(s.as_str())).map(|s| format!("stdout has {s:?}")));
        wrong.extend(case.stderr_not.iter().filter(|s| stderr.contains(s.as_str())).map(|s| format!("stderr has {s:?}")));
        if stdout.lines().count() < case.stdout_min_lines {
            wrong.push(format!("stdout has {} lines, expected at least {}", stdout.lines().count(), case.stdout_min_lines));
        }
        if !wrong.is_empty() {
            failures.push(format!("{} (sottovoce {}): {}\n--- stdout:\n{stdout}--- stderr:\n{stderr}", case.name, case.args.join(" "), wrong.join("; ")));
        }
    }
    assert!(failures.is_empty(), "{} of {} CLI cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}
