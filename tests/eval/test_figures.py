"""The classifier on its labelled evaluation calendar: the figures the README states hold."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.eval.labelled import (
    GOALS,
    LABELS,
    LANGUAGES,
    Judged,
    by_language,
    figures,
    judge,
    mistakes,
    read_events,
)


@pytest.fixture(scope="module")
def judged() -> list[Judged]:
    return judge()


def test_the_calendar_covers_every_language_every_class_and_the_traps() -> None:
    events = read_events()
    languages = Counter(e.lang for e in events)
    labels = Counter(e.label for e in events)

    assert len(events) >= 300
    assert all(languages[lang] >= 15 for lang in LANGUAGES), languages
    assert set(labels) == set(LABELS)
    extras = Counter(key for e in events for key in e.extras)
    assert extras["weekly"] + extras["daily"] >= 4  # series
    assert extras["orig"] >= 8  # moved, cancelled and declined instances
    people = [p for e in events for p in e.people]
    assert any(p.startswith("room:") for p in people)
    assert any(p.endswith("~d") for p in people)  # someone declined
    assert any(p.startswith("+") and int(p[1:]) > 8 for p in people)  # crowds


def test_the_classifier_meets_its_goals_on_the_calendar(judged: list[Judged]) -> None:
    overall = figures(judged)
    listing = "\n".join(
        f"{j.event.line}: {j.event.title} {j.label}->{j.kind}" for j in mistakes(judged)
    )

    assert overall.precision >= GOALS["precision"], listing
    assert overall.recall >= GOALS["recall"], listing
    assert overall.kind_accuracy >= GOALS["kind_accuracy"], listing


def test_each_language_meets_its_kind_goal(judged: list[Judged]) -> None:
    languages = by_language(judged)

    for lang in LANGUAGES:
        assert languages[lang].kind_accuracy >= GOALS["language_kind_accuracy"], lang


def test_every_instance_of_a_series_is_judged_and_cancelled_ones_are_not_touchpoints(
    judged: list[Judged],
) -> None:
    orion = [j for j in judged if "Orion" in j.event.title]
    cancelled = [j for j in orion if j.label == "none"]

    assert len(orion) >= 4
    assert cancelled
    assert all(j.kind == "none" for j in cancelled)
    assert all(j.kind == "project" for j in orion if j.label == "project")
