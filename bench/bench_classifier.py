"""Score the classifier on the labelled evaluation calendar (tests/eval/calendar.txt).

Counts, not timings: precision and recall of "is it a touchpoint", and kind accuracy (the share
of found touchpoints given the kind a person would give), overall and per language, against the
goals; then the same figures for fresh.txt, holdout.txt and final.txt, written after the rules.
The same files always give the same figures; the exit status is 1 when calendar.txt misses a goal.
    python bench/bench_classifier.py             # a Markdown table; --misses lists each mistake
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.eval.labelled import (
    CALENDAR,
    FINAL,
    FRESH,
    GOALS,
    HOLDOUT,
    LANGUAGES,
    Figures,
    by_language,
    figures,
    judge,
    mistakes,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list every mistake")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    judged = judge(CALENDAR)
    overall, languages = figures(judged), by_language(judged)
    others = {
        name: figures(judge(path))
        for name, path in (("fresh.txt", FRESH), ("holdout.txt", HOLDOUT), ("final.txt", FINAL))
    }
    if args.json:
        rows = {"all": overall, **languages, **others}
        print(json.dumps({k: _as_dict(v) for k, v in rows.items()}, indent=2))
    else:
        print(_table(overall, languages, others))
    if args.misses:
        for j in mistakes(judged):
            when = j.start.strftime("%a %d %b %H:%M")
            why = "; ".join(j.reasons)
            line = f"line {j.event.line} [{j.event.lang}] {j.event.title!r} {when}"
            print(f"{line}: {j.label} read as {j.kind} ({why})", file=sys.stderr)
    return 0 if _meets_goals(overall, languages) else 1


def _as_dict(f: Figures) -> dict[str, object]:
    return {"events": f.events, "occurrences": f.occurrences, "precision": f.precision,
            "recall": f.recall, "kind_accuracy": f.kind_accuracy, "counts": f.counts}  # fmt: skip


def _table(overall: Figures, languages: dict[str, Figures], others: dict[str, Figures]) -> str:
    lines = ["| set | events | occurrences | precision | recall | kind accuracy |",
             "|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    rows = [("calendar.txt", overall), *languages.items(), *others.items()]
    for name, f in rows:
        lines.append(f"| {name} | {f.events} | {f.occurrences} | {f.precision:.3f} | "
                     f"{f.recall:.3f} | {f.kind_accuracy:.3f} |")  # fmt: skip
    goal = (f"goal: precision >= {GOALS['precision']}, recall >= {GOALS['recall']}, kind accuracy "
            f">= {GOALS['kind_accuracy']}, and >= {GOALS['language_kind_accuracy']} in each of "
            f"{', '.join(LANGUAGES)}")  # fmt: skip
    return "\n".join(lines) + "\n\n" + goal


def _meets_goals(overall: Figures, languages: dict[str, Figures]) -> bool:
    return (
        overall.precision >= GOALS["precision"]
        and overall.recall >= GOALS["recall"]
        and overall.kind_accuracy >= GOALS["kind_accuracy"]
        and all(
            languages[lang].kind_accuracy >= GOALS["language_kind_accuracy"] for lang in LANGUAGES
        )
    )


if __name__ == "__main__":
    sys.exit(main())
