#!/usr/bin/env python3
"""Regenerates the README's sample outputs from the current build, so they cannot drift.

Each sample in README.md sits under a marker naming the benchmark's arguments:

    <!-- sample: --client both -->
    ```console
    $ cargo run --release -p benchmark -- --client both
    ...what that printed...
    ```

This script builds the release benchmark, runs each marked command (load on CPU 0 and
servers on CPU 1, as the benchmark places them by default) and rewrites the block with
what it printed now. Each command runs twice and the second output is kept: on the
virtual machines this was written on, the first busy second after a pause is often
throttled by the host (steal near a third of the run, every row faster than the floor,
and the run says so), which is the machine, not the build. Run it on a quiet machine,
and read the figures it wrote before committing them.

It then remakes the HTML report the README links (docs/report.html, by the command the
README shows above it) and, where Chromium is installed, its screenshots: the first screen
at 1,200 px and at 390 px (a phone), and the whole page.

    scripts/readme-samples.py            # the samples, then docs/
    scripts/readme-samples.py --docs     # docs/ only
"""
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MARKER = re.compile(
    r"(<!-- sample: (?P<args>.*?) -->\n```console\n\$ (?P<shown>[^\n]*)\n)(?P<body>.*?)(```)",
    re.S,
)


def run(args: str) -> str:
    command = [str(ROOT / "target/release/benchmark"), *shlex.split(args)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        sys.exit(f"`benchmark {args}` exited with {done.returncode}:\n{done.stderr}")
    return done.stdout


DOCS = ROOT / "docs"
# The README's HTML report command, written to docs/ (the README shows it with -o report.html).
REPORT_ARGS = (
    "--protocols socket,rest,grpc,ws --client lean --concurrency 4 --duration 10s --format html"
)
# (file, window width, window height): the first screen at two widths, then the whole page.
SCREENSHOTS = [("report-1200.png", 1200, 1000), ("report-390.png", 390, 1000), ("report.png", 1100, 3900)]


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    return None


def docs() -> None:
    report = DOCS / "report.html"
    run(f"{REPORT_ARGS} --output {report}")
    print(f"regenerated: {report.relative_to(ROOT)}", file=sys.stderr)
    browser = chromium()
    if browser is None:
        print("no Chromium on PATH: the screenshots in docs/ are unchanged", file=sys.stderr)
        return
    for name, width, height in SCREENSHOTS:
        subprocess.run(
            [
                browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--hide-scrollbars", f"--user-data-dir={ROOT / 'target' / 'chromium-profile'}",
                f"--window-size={width},{height}", f"--screenshot={DOCS / name}",
                report.as_uri(),
            ],
            check=True, capture_output=True,
        )
        print(f"regenerated: docs/{name} ({width} px)", file=sys.stderr)


def main() -> None:
    subprocess.run(
        ["cargo", "build", "--release", "--locked", "-q", "-p", "benchmark"], check=True, cwd=ROOT
    )
    if sys.argv[1:] == ["--docs"]:
        docs()
        return
    text = README.read_text()

    def replace(match: re.Match) -> str:
        run(match["args"])
        output = run(match["args"])
        print(f"regenerated: benchmark {match['args']}", file=sys.stderr)
        return f"{match.group(1)}{output}```"

    README.write_text(MARKER.sub(replace, text))
    docs()


if __name__ == "__main__":
    main()
