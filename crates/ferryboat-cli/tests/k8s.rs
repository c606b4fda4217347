//! The Kubernetes manifests in docs/k8s against the code: every argument list they run is
//! one the binary accepts (after Kubernetes' own `$(VAR)` expansion), and the Secret's keys
//! are the names the binary reads.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Parser;
use common::*;
use ferryboat_cli::{Cli, Command};

fn manifest(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/k8s").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn unquote(s: &str) -> String {
    s.trim().trim_matches('"').to_string()
}

/// The container's `args` and `env` (name → value), read line by line: the manifests are
/// plain block YAML, one item per line.
fn container(yaml: &str) -> (Vec<String>, BTreeMap<String, String>) {
    let (mut args, mut env) = (Vec::new(), BTreeMap::new());
    let mut section = "";
    let mut pending_name: Option<String> = None;
    for line in yaml.lines() {
        let t = line.trim();
        if t.starts_with('#') || t.is_empty() {
            continue;
        }
        match t {
            "args:" => section = "args",
            "env:" => section = "env",
            _ if section == "args" && t.starts_with("- ") => args.push(unquote(&t[2..])),
            _ if section == "env" && t.starts_with("- name: ") => pending_name = Some(unquote(&t[8..])),
            _ if section == "env" && t.starts_with("value: ") => {
                if let Some(n) = pending_name.take() {
                    env.insert(n, unquote(&t[7..]));
                }
            }
            _ => section = "",
        }
    }
    (args, env)
}

/// Kubernetes' `$(VAR)` expansion of one argument.
fn expand(arg: &str, env: &BTreeMap<String, String>) -> String {
    let mut out = arg.to_string();
    for (k, v) in env {
        out = out.replace(&format!("$({k})"), v);
    }
    assert!(!out.contains("$("), "{arg}: every $(VAR) is defined in the manifest's env");
    out
}

#[test]
fn the_indexed_job_runs_arguments_the_binary_accepts() {
    let yaml = manifest("mirror-job.yaml");
    let (args, mut env) = container(&yaml);
    assert_eq!(args.first().map(String::as_str), Some("mirror"), "{args:?}");
    assert!(!yaml.contains("/bin/sh"), "no shell: the image has none");
    assert!(yaml.contains("restartPolicy: Never") && yaml.contains("values: [2]"), "exit 2 fails the Job");
    let shards: u32 = env["SHARDS"].parse().unwrap();
    assert!(yaml.contains(&format!("completions: {shards}")) && yaml.contains(&format!("parallelism: {shards}")));
    for index in 0..shards {
        env.insert("JOB_COMPLETION_INDEX".into(), index.to_string());
        let argv: Vec<String> =
            std::iter::once("ferryboat".to_string()).chain(args.iter().map(|a| expand(a, &env))).collect();
        let cli = Cli::try_parse_from(&argv).unwrap_or_else(|e| panic!("{argv:?}: {e}"));
        let Command::Mirror(m) = cli.command else { panic!("a mirror") };
        assert_eq!(m.shard.map(|s| s.to_string()), Some(format!("{index}/{shards}")));
        assert!(m.json && m.delete, "JSON reports; deletes as documented");
        assert!(m.src.as_deref().unwrap().contains("region="), "the source names its region");
    }
}

#[test]
fn the_cronjob_runs_arguments_the_binary_accepts() {
    let yaml = manifest("mirror-cronjob.yaml");
    let (args, env) = container(&yaml);
    let argv: Vec<String> =
        std::iter::once("ferryboat".to_string()).chain(args.iter().map(|a| expand(a, &env))).collect();
    let cli = Cli::try_parse_from(&argv).unwrap_or_else(|e| panic!("{argv:?}: {e}"));
    assert!(matches!(cli.command, Command::Mirror(_)));
    assert!(!yaml.contains("/bin/sh") && yaml.contains("values: [2]"));
}

#[test]
fn the_secret_holds_the_names_ferry_reads() {
    let yaml = manifest("mirror-job.yaml");
    let secret_keys: Vec<String> = yaml
        .split("stringData:")
        .nth(1)
        .unwrap()
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("  ") && l.contains(':'))
        .map(|l| l.split(':').next().unwrap().trim().to_string())
        .collect();
    assert_eq!(secret_keys.len(), 4, "{secret_keys:?}");
    // With no credentials, the binary names what it reads for the destination's provider
    // (before any request: nothing is contacted).
    let (_, env) = container(&yaml);
    let out = run(ferryboat(None, &["stat", &format!("{}/some-key", env["DST"])]));
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    let asked = stderr(&out);
    for key in &secret_keys {
        assert!(asked.contains(key.as_str()), "the binary reads {key}: {asked}");
    }
}
