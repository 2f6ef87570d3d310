"""Before/after: run one benchmark alternately on another checkout (e.g. the commit before a
change, as a git worktree) and on this one, in one run on one machine. Prints JSON.

    git worktree add /tmp/before HEAD~1
    python bench/compare.py --before /tmp/before --rounds 2 -- bench/voice_latency.py --runs 12

Each round runs the benchmark once per side (before first); the figures of every round are kept,
so the spread between rounds shows how much of a difference is noise.
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run(script: list[str], code: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "BENCH_OTHER_CHECKOUT"}
    if code:
        env["BENCH_OTHER_CHECKOUT"] = code
    done = subprocess.run(
        [sys.executable, *script], env=env, cwd=REPO, capture_output=True, text=True
    )
    if done.returncode != 0:
        sys.exit(f"{' '.join(script)} failed on {code or 'this checkout'}:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout[done.stdout.index("{") :])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", required=True, help="the other checkout (a worktree)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("script", nargs=argparse.REMAINDER, help="-- bench/NAME.py [its options]")
    args = parser.parse_args()
    script = [part for part in args.script if part != "--"]
    before = str(Path(args.before).resolve())
    results: dict[str, list[dict]] = {"before": [], "after": []}
    for _ in range(args.rounds):
        results["before"].append(run(script, before))
        results["after"].append(run(script, None))
    print(json.dumps({"script": script, "before_code": before, **results}, indent=2))


if __name__ == "__main__":
    main()
