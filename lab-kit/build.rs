//! Records the git commit the binaries are built from, for `--version`.

use std::process::Command;

fn main() {
    let commit = Command::new("git")
        .args(["rev-parse", "--short=9", "HEAD"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty())
        .unwrap_or_else(|| "unknown commit".to_owned());
    println!("cargo:rustc-env=COMMLAB_COMMIT={commit}");
    // Rebuild when the checked-out commit moves (a new commit or a checkout), not on
    // every edit.
    if let Ok(out) = Command::new("git")
        .args(["rev-parse", "--git-dir"])
        .output()
    {
        let git_dir = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if !git_dir.is_empty() {
            for file in ["HEAD", "packed-refs"] {
                println!("cargo:rerun-if-changed={git_dir}/{file}");
            }
            if let Ok(head) = std::fs::read_to_string(format!("{git_dir}/HEAD"))
                && let Some(reference) = head.strip_prefix("ref: ")
            {
                println!("cargo:rerun-if-changed={git_dir}/{}", reference.trim());
            }
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}
