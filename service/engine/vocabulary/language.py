"""What one language brings to the classifier: its phrases per category and how its words bend.

Phrase syntax, kept deliberately small so the tables stay readable data:
- Case and accents do not matter: phrases are folded exactly like titles ("Café" == "cafe").
- A space matches any run of spaces, hyphens, underscores or dots, or none at all, so
  "kick off" matches "kick-off", "kick off" and "kickoff".
- Phrases match whole words only ("tea" never matches "Team"), except where a "*" at the start
  or end lets the word sit inside a compound ("*mittagessen" matches "Teammittagessen",
  "kaffee*" matches "Kaffeeklatsch").
- Each word may carry one of the language's `endings` ("lunch" matches "lunches" in English,
  "kaw" matches "kawa", "kawę" and "kawka" in Polish), so tables list stems, not every form.
- In languages that glue words together, a phrase may sit behind known compound `parts`
  ("team" + "diner" = "Teamdiner", "abteilung" + "s" + "essen" = "Abteilungsessen") and before
  known `heads` that do not change what it is ("frukost" + "möte" = "Frukostmöte").
- Chinese and Japanese phrases match anywhere: those scripts do not put spaces between words.
- Apostrophes fold to spaces, so write "d embauche" for "d'embauche".
"""

from __future__ import annotations

from dataclasses import dataclass, fields

# The title categories, in the order the tables list them.
CATEGORIES: tuple[str, ...] = (
    "career", "meal", "coffee", "one_on_one", "project", "project_if_small", "away",
    "interview", "focus", "crowd", "personal", "family", "travel",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Language:
    """The phrases of one language (or of emoji), per category, and how its words bend."""

    code: str
    career: tuple[str, ...] = ()  # it already IS a career conversation: it counts for cadence
    meal: tuple[str, ...] = ()  # eating together
    coffee: tuple[str, ...] = ()  # a short informal drink or walk
    one_on_one: tuple[str, ...] = ()  # "just the two of us"; with more people, a working meeting
    project: tuple[str, ...] = ()  # a working meeting about a project: good when small
    project_if_small: tuple[str, ...] = ()  # rituals only worth it when small (a standup of 12)
    away: tuple[str, ...] = ()  # away from work entirely
    interview: tuple[str, ...] = ()  # hiring: about the candidate, not about you
    focus: tuple[str, ...] = ()  # time kept free of meetings on purpose
    crowd: tuple[str, ...] = ()  # too many people to talk: company meetings, trainings, parties
    personal: tuple[str, ...] = ()  # the owner's own appointments (yield to a meal or career word)
    family: tuple[str, ...] = ()  # a child's school or care: never a work moment, whatever else
    travel: tuple[str, ...] = ()  # getting somewhere
    cancelled: tuple[str, ...] = ()  # what mail clients put before a cancelled meeting's title
    declined: tuple[str, ...] = ()  # ... and before one the owner declined
    with_words: tuple[str, ...] = ()  # "with", before a person's name in a title
    endings: tuple[str, ...] = ()  # inflections any word may carry
    parts: tuple[str, ...] = ()  # compound parts that may stand before a phrase
    heads: tuple[str, ...] = ()  # compound parts that may follow a phrase

    def phrases(self, category: str) -> tuple[str, ...]:
        found: tuple[str, ...] = getattr(self, category)
        return found


assert set(CATEGORIES) <= {f.name for f in fields(Language)}
