//! A tiny reporter for the clients' self-test suites.
//!
//! Each lab's client runs numbered tests against a live server. A test is made of one
//! or more checks; it passes when all of its checks pass. The reporter prints as it
//! goes, so a person watching a slow or failing server sees where it stopped, and ends
//! with the line every suite shares: `Test Results: N/N Passed`.

use std::fmt::Display;
use std::io::Write;

use super::{Tone, paint};

const RULE: &str = "============================================================";

/// Prints a self-test run and counts its results.
///
/// Output errors (a closed stdout, say) are ignored: the verdict is in [`Summary`].
#[derive(Debug)]
pub struct Suite<W: Write> {
    out: W,
    tests: usize,
    passed_tests: usize,
    current_ok: Option<bool>,
}

/// What a finished suite found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Tests that passed (every check in them passed).
    pub passed: usize,
    /// Tests that ran.
    pub total: usize,
}

impl Summary {
    /// True when every test passed and at least one ran.
    pub fn all_passed(&self) -> bool {
        self.total > 0 && self.passed == self.total
    }

    /// The exit code a client reports the suite with: success only when all passed.
    pub fn exit_code(&self) -> std::process::ExitCode {
        if self.all_passed() {
            std::process::ExitCode::SUCCESS
        } else {
            std::process::ExitCode::FAILURE
        }
    }
}

impl<W: Write> Suite<W> {
    /// Starts a suite, printing its title and the target it runs against.
    pub fn new(mut out: W, title: &str, target: &str) -> Self {
        let _ = writeln!(out, "{RULE}\n{title}\nTarget: {target}\n{RULE}");
        Suite {
            out,
            tests: 0,
            passed_tests: 0,
            current_ok: None,
        }
    }

    /// Starts the next numbered test; the previous one, if any, is closed first.
    pub fn test(&mut self, title: &str) {
        self.close_test();
        self.tests += 1;
        self.current_ok = Some(true);
        let _ = writeln!(self.out, "\nTEST {}: {title}\n{}", self.tests, &RULE[..40]);
    }

    /// Prints an informational line inside the current test (a request, a status code).
    pub fn info(&mut self, line: impl Display) {
        let _ = writeln!(self.out, "  {line}");
    }

    /// Records one check: `Ok(detail)` passes, `Err(reason)` fails the current test.
    /// Returns whether it passed, so a test can skip checks that depend on it.
    pub fn check<D: Display, E: Display>(&mut self, name: &str, result: Result<D, E>) -> bool {
        let ok = result.is_ok();
        let _ = match result {
            Ok(detail) => writeln!(self.out, "  {} {name}: {detail}", paint(Tone::Good, "✓")),
            Err(reason) => writeln!(self.out, "  {} {name}: {reason}", paint(Tone::Bad, "✗")),
        };
        if !ok {
            // A check outside any test still counts, as a failed test of its own.
            if self.current_ok.is_none() {
                self.tests += 1;
            }
            self.current_ok = Some(false);
        }
        ok
    }

    /// Ends a suite that cannot run at all (its server cannot be reached): says why
    /// once, lists every planned test as not run, and finishes. The summary counts them
    /// as run and failed, so the exit status is a failure.
    pub fn not_run(mut self, reason: impl Display, planned: &[&str]) -> Summary {
        let _ = writeln!(self.out, "\n{} {reason}", paint(Tone::Bad, "✗"));
        for title in planned {
            self.tests += 1;
            let _ = writeln!(self.out, "  TEST {}: {title}: not run", self.tests);
        }
        self.finish()
    }

    /// Closes the last test, prints `Test Results: N/N Passed` and returns the counts.
    pub fn finish(mut self) -> Summary {
        self.close_test();
        let _ = writeln!(
            self.out,
            "\n{RULE}\nTest Results: {}/{} Passed\n{RULE}",
            self.passed_tests, self.tests
        );
        let _ = self.out.flush();
        Summary {
            passed: self.passed_tests,
            total: self.tests,
        }
    }

    fn close_test(&mut self) {
        if let Some(true) = self.current_ok.take() {
            self.passed_tests += 1;
        }
    }
}

/// A check's result for a reply that must equal `expected`: the reply (quoted) when it
/// does, what differs or what failed otherwise.
///
/// # Errors
///
/// When the reply differs or the request failed.
pub fn expect_reply<E: Display>(
    result: Result<String, E>,
    expected: &str,
) -> Result<String, String> {
    match result {
        Ok(reply) if reply == expected => Ok(format!("{reply:?}")),
        Ok(reply) => Err(format!("expected {expected:?}, got {reply:?}")),
        Err(e) => Err(e.to_string()),
    }
}

/// A check's result for `count` requests of which `ok` succeeded: "ok/count
/// successful", passing only when all did.
///
/// # Errors
///
/// When any request failed.
pub fn expect_all(ok: usize, count: usize) -> Result<String, String> {
    let summary = format!("{ok}/{count} successful");
    if ok == count {
        Ok(summary)
    } else {
        Err(summary)
    }
}

/// A check's result for a connection that must fail: it passes when it failed, with
/// the error a person would see.
///
/// # Errors
///
/// When it connected where no server should be.
pub fn expect_failure<T, E: Display>(result: Result<T, E>) -> Result<String, String> {
    match result {
        Ok(_) => Err("connected where no server should be".into()),
        Err(e) => Ok(format!("handled: {e}")),
    }
}

/// An address on this machine where nothing listens: bind a port, then let it go.
pub async fn closed_local_port() -> String {
    match tokio::net::TcpListener::bind("127.0.0.1:0").await {
        Ok(listener) => listener
            .local_addr()
            .map_or_else(|_| "127.0.0.1:1".into(), |addr| addr.to_string()),
        Err(_) => "127.0.0.1:1".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_tests_not_checks() {
        let mut out = Vec::new();
        let mut suite = Suite::new(&mut out, "demo", "here");
        suite.test("one");
        suite.check("a", Ok::<_, String>("fine"));
        suite.check("b", Ok::<_, String>("fine"));
        suite.test("two");
        suite.check("c", Ok::<_, String>("fine"));
        suite.check("d", Err::<String, _>("broken"));
        suite.test("three");
        suite.check("e", Ok::<_, String>("fine"));
        let summary = suite.finish();
        assert_eq!(
            summary,
            Summary {
                passed: 2,
                total: 3
            }
        );
        assert!(!summary.all_passed());
        assert_eq!(summary.exit_code(), std::process::ExitCode::FAILURE);
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("✗ d: broken"), "{text}");
        assert!(text.contains("Test Results: 2/3 Passed"), "{text}");
    }

    #[test]
    fn a_suite_that_cannot_run_lists_every_test_once() {
        let mut out = Vec::new();
        let summary = Suite::new(&mut out, "demo", "here")
            .not_run("nothing listens on here", &["one", "two", "three"]);
        assert_eq!(
            summary,
            Summary {
                passed: 0,
                total: 3
            }
        );
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches("nothing listens").count(), 1, "{text}");
        assert!(text.contains("TEST 3: three: not run"), "{text}");
        assert!(text.contains("Test Results: 0/3 Passed"), "{text}");
    }

    #[tokio::test]
    async fn the_shared_checks_pass_and_fail_as_named() {
        assert_eq!(
            expect_reply(Ok::<_, String>("HI".into()), "HI"),
            Ok("\"HI\"".into())
        );
        assert!(expect_reply(Ok::<_, String>("hi".into()), "HI").is_err());
        assert!(expect_reply(Err::<String, _>("down"), "HI").is_err());
        assert!(expect_failure(Ok::<(), String>(())).is_err());
        assert_eq!(
            expect_failure(Err::<(), _>("refused")),
            Ok("handled: refused".into())
        );
        let closed = closed_local_port().await;
        assert!(
            tokio::net::TcpStream::connect(&closed).await.is_err(),
            "{closed}"
        );
    }

    #[test]
    fn empty_suite_is_not_a_pass() {
        let summary = Suite::new(Vec::new(), "empty", "nowhere").finish();
        assert_eq!(summary.total, 0);
        assert!(!summary.all_passed());
    }

    #[test]
    fn all_must_succeed() {
        assert_eq!(expect_all(3, 3), Ok("3/3 successful".into()));
        assert_eq!(expect_all(2, 3), Err("2/3 successful".into()));
    }
}
