"""The time-zone picker: IANA zones grouped by region, each shown by its city.

Only the zones of places (Europe/Berlin, America/Argentina/Buenos_Aires) are listed, grouped by
their region; the old country aliases (US/Eastern, GB) and the server's own "localtime" are
left out, but a user who already has one keeps it. UTC stands alone under "Other".
"""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

from flask_babel import gettext

from service.engine.i18n import N_

REGIONS = {
    "Africa": N_("Africa"),
    "America": N_("Americas"),
    "Antarctica": N_("Antarctica"),
    "Arctic": N_("Arctic"),
    "Asia": N_("Asia"),
    "Atlantic": N_("Atlantic"),
    "Australia": N_("Australia"),
    "Europe": N_("Europe"),
    "Indian": N_("Indian Ocean"),
    "Pacific": N_("Pacific"),
}
OTHER = N_("Other")

Choices = dict[str, list[tuple[str, str]]]


def city_of(zone: str) -> str:
    """Return how a zone is shown in its region: "Argentina / Buenos Aires", "New York"."""
    return " / ".join(part.replace("_", " ") for part in zone.split("/")[1:]) or zone


@cache
def _grouped() -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    groups: dict[str, list[tuple[str, str]]] = {label: [] for label in REGIONS.values()}
    for zone in available_timezones():
        region = REGIONS.get(zone.split("/")[0]) if "/" in zone else None
        if region:
            groups[region].append((zone, city_of(zone)))
    ordered = sorted(groups.items())
    return tuple((label, tuple(sorted(cities, key=lambda c: c[1]))) for label, cities in ordered)


def zone_choices(current: str = "") -> Choices:
    """Return the picker's groups (region: [(zone, city)]), the user's current zone kept."""
    choices: Choices = {gettext(label): list(cities) for label, cities in _grouped()}
    other = [("UTC", "UTC")]
    listed = {zone for cities in choices.values() for zone, _ in cities}
    if current and current != "UTC" and current not in listed and current in available_timezones():
        other.append((current, current))
    choices[gettext(OTHER)] = other
    return choices
