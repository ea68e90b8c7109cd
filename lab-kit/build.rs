//! Records the git commit the binaries are built from, for `--version`.
//!
//! The commit comes from `COMMLAB_COMMIT` when it is set (a container build has no
//! `.git`: pass it as a build argument), else from `git rev-parse`, else it is
//! `unknown`. Cargo is told to watch only files that exist: a watched path that is
//! missing counts as changed on every build (rust-lang/cargo#4213), which recompiled
//! every crate above this one on each `cargo build` in a clone without `packed-refs`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=COMMLAB_COMMIT");
    let given = std::env::var("COMMLAB_COMMIT")
        .ok()
        .map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty());
    let commit = match given {
        Some(commit) => commit,
        None => {
            watch_git_refs();
            git(&["rev-parse", "--short=9", "HEAD"]).unwrap_or_else(|| "unknown".to_owned())
        }
    };
    println!("cargo:rustc-env=COMMLAB_COMMIT={commit}");
}

/// Asks cargo to rebuild when the checked-out commit moves (a new commit, a checkout,
/// refs packed), not on every edit: `HEAD`, the folder of the branch's ref and
/// `packed-refs`, each only if it exists.
fn watch_git_refs() {
    let (Some(git_dir), Some(common_dir)) = (
        git(&["rev-parse", "--git-dir"]),
        git(&["rev-parse", "--git-common-dir"]),
    ) else {
        return;
    };
    let (git_dir, common_dir) = (PathBuf::from(git_dir), PathBuf::from(common_dir));
    let head = git_dir.join("HEAD");
    watch_if_exists(&head);
    watch_if_exists(&common_dir.join("packed-refs"));
    if let Ok(text) = std::fs::read_to_string(&head)
        && let Some(reference) = text.strip_prefix("ref: ")
    {
        // A worktree's branch refs live in the common directory. The folder that holds
        // the branch's ref is watched, not the ref itself: with refs packed, a commit
        // writes a loose ref file that did not exist before.
        let reference = Path::new(reference.trim());
        if let Some(folder) = reference.parent() {
            watch_if_exists(&common_dir.join(folder));
        }
    }
}

fn watch_if_exists(path: &Path) {
    if path.exists() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

/// One line of git's output, or `None` when git is missing or fails.
fn git(args: &[&str]) -> Option<String> {
    Command::new("git")
        .args(args)
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty())
}
