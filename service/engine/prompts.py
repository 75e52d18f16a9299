"""The question bank: which "add value" and "insight" prompts fit a moment, and which one to use.

Each prompt is a key; its wording is in templates/notes/_add.txt and _ask.txt. Candidates come
most specific first (what the calendar shows, then the relationship, the stage and the goal);
choose() takes the first one not used with that person in the last month, so a person never
reads the same prompt twice in a month while the bank lasts, and the same inputs always give the
same note.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# Add value, by who the person is to the user.
ADD_BY_RELATION: dict[str, tuple[str, ...]] = {
    "manager": ("mgr_update", "mgr_risk", "mgr_plate", "mgr_credit", "mgr_team", "mgr_decision"),
    "skip_level": ("skip_ground", "skip_win", "skip_idea", "mgr_risk", "peer_learned"),
    "mentor": ("mentor_followed", "mentor_corner", "mentor_thanks", "peer_learned", "peer_intro"),
    "peer": (
        "peer_hand", "peer_review", "peer_learned", "peer_intro", "peer_praise", "peer_pair",
    ),
    "cross_team": (
        "cross_struggle", "cross_contact", "cross_lesson", "peer_learned", "peer_praise",
        "peer_intro",
    ),
    "external": ("ext_first", "ext_intro", "ext_article", "ext_event", "ext_praise"),
    "open": ("open_first", "peer_learned", "peer_praise"),
}  # fmt: skip

# The one insight to ask for, by stage, then by whether the person is the manager, a colleague
# or someone outside the company.
ASK_BY_STAGE: dict[str, dict[str, tuple[str, ...]]] = {
    "growth": {
        "manager": (
            "growth_skill", "mgr_next_level", "mgr_stretch", "growth_value", "growth_blind_spot",
            "growth_habit",
        ),
        "colleague": (
            "growth_skill", "growth_in_my_place", "growth_habit", "growth_value",
            "growth_learn_from", "growth_blind_spot",
        ),
        "external": (
            "growth_outside_view", "growth_skill", "growth_habit", "growth_learn_from",
            "growth_in_my_place",
        ),
    },
    "new_project": {
        "manager": ("np_good", "np_first_win", "np_decision", "np_pitfall", "np_relies"),
        "colleague": ("np_good", "np_relies", "np_pitfall", "np_first_win", "np_decision"),
        "external": ("np_good", "np_outside", "np_pitfall", "np_first_win"),
    },
    "internal_move": {
        "manager": ("im_mgr", "im_mgr_ready", "im_mgr_support", "im_growing"),
        "colleague": ("im_needs", "im_join", "im_growing", "im_skills", "im_intro"),
        "external": ("im_needs", "im_skills", "growth_outside_view", "im_intro"),
    },
    "external_move": {
        "manager": (
            "em_discreet", "em_discreet_field", "em_discreet_strength", "em_discreet_learn",
        ),
        "colleague": (
            "em_discreet", "em_discreet_field", "em_discreet_strength", "em_discreet_learn",
        ),
        "external": ("em_market", "em_hiring", "em_company", "em_skills", "em_intro"),
    },
}  # fmt: skip


def add_keys(facts: Mapping[str, Any]) -> list[str]:
    """Return the "add value" prompts that fit, most specific first."""
    keys: list[str] = []
    if facts["who"]:
        keys += [k for k, on in _moments(facts) if on]
    relation = facts["relation"] if facts["who"] else "open"
    usual = list(ADD_BY_RELATION.get(relation, ADD_BY_RELATION["open"]))
    if facts["topic"] and facts["who"]:
        # A project meeting is about its topic; elsewhere the relationship speaks first.
        topical = ["topic_notes", "topic_hand"] if facts["kind"] == "project" else ["topic_hand"]
        at = 0 if facts["kind"] == "project" else 1
        usual[at:at] = topical
    return keys + usual


def ask_keys(facts: Mapping[str, Any]) -> list[str]:
    """Return the insight prompts that fit the stage, the person, the topic and the goal."""
    relation = facts["relation"]
    group = "manager" if relation in ("manager", "skip_level") else "colleague"
    group = "external" if relation == "external" else group
    keys = list(ASK_BY_STAGE.get(facts["stage"], ASK_BY_STAGE["growth"])[group])
    discreet = facts["stage"] == "external_move" and group != "external"
    if facts["topic"] and facts["who"] and not discreet:
        keys.insert(1, "topic_lead" if facts["stage"] != "new_project" else "np_topic_needs")
    if facts["goal"] and facts["who"] and not discreet:
        keys.insert(2, "goal_step")
    if facts["kind"] == "career" and not discreet:
        keys.insert(1, "career_ask")
    return keys


def _moments(facts: Mapping[str, Any]) -> list[tuple[str, bool]]:
    return [
        ("back", facts["back"]),
        ("first", facts["first"]),
        ("months", facts["months"]),
        ("new_series", facts["series_new"]),
    ]


def choose(candidates: Sequence[str], used: Sequence[str]) -> str:
    """Return the first candidate not used lately, else the one used longest ago."""
    for key in candidates:
        if key not in used:
            return key
    last_use = {key: i for i, key in enumerate(used)}
    return min(candidates, key=lambda key: last_use.get(key, -1))
