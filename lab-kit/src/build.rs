//! How a server names its build to the clients that ask: `rest-lab/0.1.0 (release)`.
//!
//! The benchmark reads it (an HTTP `server` header, gRPC `server` metadata) so a report
//! can say which build it measured, and warn when that build was a debug one: a debug
//! server is several times slower and its figures say nothing about the protocol.

/// The build profile this code was compiled with: `debug` or `release`.
pub const PROFILE: &str = if cfg!(debug_assertions) {
    "debug"
} else {
    "release"
};

/// What every binary's `--version` prints after its name:
/// `0.1.0 (commit 1a2b3c4d5, release build)`, or `commit unknown` when the build
/// had neither `.git` nor `COMMLAB_COMMIT`.
pub const VERSION: &str = if cfg!(debug_assertions) {
    concat!(
        env!("CARGO_PKG_VERSION"),
        " (commit ",
        env!("COMMLAB_COMMIT"),
        ", debug build)"
    )
} else {
    concat!(
        env!("CARGO_PKG_VERSION"),
        " (commit ",
        env!("COMMLAB_COMMIT"),
        ", release build)"
    )
};

/// `name/version (profile)`, the value of a server's `server` header.
pub fn server_id(name: &str, version: &str) -> String {
    format!("{name}/{version} ({PROFILE})")
}

/// Whether a `server` value (as [`server_id`] writes it) names a debug build.
pub fn is_debug_build(server: &str) -> bool {
    server.ends_with("(debug)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_names_the_profile_it_was_built_with() {
        let id = server_id("rest-lab", "0.1.0");
        assert!(id.starts_with("rest-lab/0.1.0 ("), "{id}");
        assert_eq!(is_debug_build(&id), cfg!(debug_assertions));
        assert!(is_debug_build("x/1 (debug)"));
        assert!(!is_debug_build("nginx/1.25"));
        assert!(VERSION.contains("commit "), "{VERSION}");
        assert!(VERSION.contains(&format!("{PROFILE} build")), "{VERSION}");
    }
}
