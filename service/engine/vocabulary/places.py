"""Places and addresses: where a meeting happens, and attendees that are not people."""

from __future__ import annotations

# Phrases blanked out of titles before matching, because a word inside them misleads.
MISLEADING: tuple[str, ...] = (
    "conference call", "conf call", "conf room", "third party", "3rd party", "of course",
    "release candidate", "coffee machine", "kaffeemaschine", "walk through", "idp integration",
    "idp migration", "idp setup", "idp config*", "lunch room", "lunchroom",
    "school of", "business school",
)  # fmt: skip

# Locations: where it happens says what it is.
PLACE_FOOD: tuple[str, ...] = (
    "restaurant*", "ristorante", "trattoria", "pizzeria", "bistro*", "brasserie", "diner",
    "taverna", "gasthaus", "gasthof", "wirtshaus", "biergarten", "brauhaus", "steakhouse",
    "sushi", "burger*", "food court", "tasca", "osteria", "restauracja", "izakaya", "食堂",
    "レストラン", "餐厅", "餐廳", "饭店",
)  # fmt: skip
PLACE_CAFE: tuple[str, ...] = (
    "cafe", "caffe", "coffee*", "kaffee*", "koffie*", "starbucks", "espresso*", "bakery",
    "backerei", "boulangerie", "pastelaria", "pasticceria", "konditorei", "patisserie",
    "tea room", "teahouse", "roastery", "kawiarnia", "kafe", "konditori", "カフェ", "喫茶",
    "咖啡",
)  # fmt: skip
PLACE_CANTEEN: tuple[str, ...] = (
    "kantine", "canteen", "cafeteria", "mensa", "cantine", "cantina", "comedor", "refeitorio",
    "restaurant d entreprise", "betriebsrestaurant", "stolowka", "personalrestaurang", "社員食堂",
    "食堂", "员工餐厅",
)  # fmt: skip
PLACE_ROOM: tuple[str, ...] = (
    "room", "meeting room", "conference room", "boardroom", "huddle*", "*raum", "salle*",
    "sala", "zaal", "vergaderruimte", "besprechungszimmer", "motesrum", "sala konferencyjna",
    "会議室", "会议室", "會議室",
)  # fmt: skip

# Attendees that are not people: rooms and equipment, and mailing lists.
ROOM_EMAIL_HINTS: tuple[str, ...] = ("resource.calendar.google.com", "@resource.")
ROOM_NAME_PREFIXES: tuple[str, ...] = (
    "room", "raum", "salle", "sala", "zaal", "conf-", "conf.", "meetingroom", "meeting-room",
    "besprechungsraum", "konferenzraum", "boardroom", "motesrum", "会議室", "会议室",
)  # fmt: skip
GROUP_EMAIL_HINTS: tuple[str, ...] = (
    "googlegroups.com", "group.calendar.google.com", "@groups.", "@lists.",
)  # fmt: skip
GROUP_LOCAL_PARTS: frozenset[str] = frozenset({
    "all", "everyone", "staff", "team", "company", "announce", "eng", "engineering", "dev",
    "devs", "sales", "marketing", "product", "design", "hr", "office", "alle", "tous", "todos",
    "tutti", "iedereen", "wszyscy", "personal", "zespol",
})  # fmt: skip
GROUP_LOCAL_PREFIXES: tuple[str, ...] = ("all-", "all.", "all_", "team-", "team.", "team_")

# Words after "with" that do not name a person ("lunch with the team").
NOT_A_NAME: frozenset[str] = frozenset({
    "the", "team", "everyone", "all", "you", "me", "us", "them", "der", "die", "das", "dem",
    "den", "l", "le", "la", "les", "el", "los", "las", "o", "a", "os", "as", "il", "lo", "gli",
    "de", "het", "equipe", "team s", "others", "friends", "zespolem", "teamet", "alla",
    "klientem", "kunden", "klant", "client", "clients", "customer",
})  # fmt: skip
