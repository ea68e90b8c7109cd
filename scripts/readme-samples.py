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

    scripts/readme-samples.py
"""
import re
import shlex
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


def main() -> None:
    subprocess.run(
        ["cargo", "build", "--release", "--locked", "-q", "-p", "benchmark"], check=True, cwd=ROOT
    )
    text = README.read_text()

    def replace(match: re.Match) -> str:
        run(match["args"])
        output = run(match["args"])
        print(f"regenerated: benchmark {match['args']}", file=sys.stderr)
        return f"{match.group(1)}{output}```"

    README.write_text(MARKER.sub(replace, text))


if __name__ == "__main__":
    main()
