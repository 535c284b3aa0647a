"""Read py-spy's collapsed stacks (``--profile``) as two short lists: where the time
is spent (inclusive, by function) and what burns it (self time, by function).

    python -m bench.profile_summary bench/results/profile/ledger-postgresql.txt [--top 30]
    [--focus SUBSTRING]    only stacks through a frame containing SUBSTRING
    [--exclude SUBSTRING]  leave out stacks through one (e.g. _find_and_load: start-up)
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_LINE = re.compile(r"^(?P<stack>.*) (?P<count>\d+)$")
_FRAME = re.compile(r"^(?P<name>.*?) \((?P<file>[^:]*)(?::\d+)?\)$")


def frame_key(frame: str) -> str:
    """``function (path/to/file.py:12)`` -> ``function (file.py)``, lines merged."""
    match = _FRAME.match(frame)
    if not match:
        return frame
    return f"{match['name']} ({Path(match['file']).name})"


def summarize(
    path: Path, focus: str | None, exclude: str | None = None
) -> tuple[int, Counter[str], Counter[str]]:
    total = 0
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        match = _LINE.match(line)
        if not match:
            continue
        frames = [frame_key(f) for f in match["stack"].split(";")]
        if focus and not any(focus in f for f in frames):
            continue
        if exclude and any(exclude in f for f in frames):
            continue
        count = int(match["count"])
        total += count
        for key in set(frames):
            inclusive[key] += count
        own[frames[-1]] += count
    return total, inclusive, own


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--focus")
    parser.add_argument("--exclude", help="drop stacks through a frame containing this")
    args = parser.parse_args()
    total, inclusive, own = summarize(args.profile, args.focus, args.exclude)
    print(f"{total} samples{f' through {args.focus!r}' if args.focus else ''}")
    for title, counter in (("inclusive", inclusive), ("self", own)):
        print(f"\n{title}:")
        for key, count in counter.most_common(args.top):
            print(f"  {100 * count / max(total, 1):5.1f}%  {key}")


if __name__ == "__main__":
    main()
