"""Keyword tables the classifier matches titles and locations against, per kind and language.

Phrase syntax, kept deliberately small so the tables stay readable data:
- Case and accents do not matter: phrases are folded exactly like titles ("Café" == "cafe").
- A space matches any run of spaces, hyphens, underscores or dots, or none at all, so
  "kick off" matches "kick-off", "kick off" and "kickoff".
- Phrases match whole words only ("tea" never matches "Team"), except where a "*" at the start
  or end lets the word sit inside a compound ("*mittagessen" matches "Teammittagessen",
  "kaffee*" matches "Kaffeeklatsch").
- Apostrophes fold to spaces, so write "d embauche" for "d'embauche".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Final

Table = dict[str, tuple[str, ...]]

# It already IS a career conversation: it counts for cadence.
CAREER: Table = {
    "en": ("mentor*", "mentee*", "career", "skip level", "growth conversation", "growth chat",
           "growth talk", "development conversation", "development chat", "development talk",
           "development review", "performance review", "perf review", "idp",
           "individual development plan", "personal development plan", "coaching session",
           "feedback conversation", "feedback chat", "promotion case", "promotion talk",
           "promotion discussion", "annual review",
           "mid year review", "year end review"),
    "de": ("karriere*", "entwicklungsgesprach", "mitarbeitergesprach", "feedbackgesprach",
           "jahresgesprach", "perspektivgesprach", "fordergesprach", "laufbahn*",
           "personalentwicklung", "zielvereinbarung*", "beurteilungsgesprach"),
    "fr": ("entretien annuel", "entretien de carriere", "entretien professionnel",
           "point carriere", "plan de developpement", "entretien de developpement",
           "evolution professionnelle", "bilan de competences"),
    "es": ("charla de carrera", "conversacion de carrera", "plan de carrera", "plan de desarrollo",
           "desarrollo profesional", "evaluacion de desempeno", "carrera profesional"),
    "pt": ("conversa de carreira", "plano de carreira", "carreira", "pdi",
           "plano de desenvolvimento", "desenvolvimento profissional", "avaliacao de desempenho"),
    "it": ("colloquio di crescita", "colloquio di carriera", "percorso di carriera", "carriera",
           "piano di sviluppo", "sviluppo professionale", "colloquio di valutazione",
           "valutazione annuale"),
    "nl": ("loopbaan*", "ontwikkelgesprek", "ontwikkelingsgesprek", "functioneringsgesprek",
           "beoordelingsgesprek", "groeigesprek", "pop gesprek", "persoonlijk ontwikkelplan",
           "carriere*"),
    "emoji": ("🌱",),
}  # fmt: skip

# Eating together.
MEAL: Table = {
    "en": ("*lunch", "lunches", "breakfast", "brunch", "dinner", "supper", "meal", "grab food",
           "grab a bite"),
    "de": ("*mittagessen", "mittag", "mittagspause", "*abendessen", "*fruhstuck", "teamessen",
           "essen gehen", "zmittag", "zmorge"),
    "fr": ("dejeuner", "petit dejeuner", "petit dej", "dej", "diner", "repas", "resto"),
    "es": ("almuerzo", "almorzar", "comida", "comer", "cena", "desayuno", "cenar"),
    "pt": ("almoco", "almocar", "jantar", "pequeno almoco", "cafe da manha", "lanche"),
    "it": ("pranzo", "pausa pranzo", "cena", "colazione"),
    "nl": ("lunchen", "avondeten", "ontbijt", "diner", "etentje", "samen eten"),
    "emoji": ("🍕", "🍔", "🥗", "🍽", "🥪", "🍜", "🍣", "🌮", "🥙", "🍱", "🥘", "🍝", "🥐", "🍳",
              "🍲"),
}  # fmt: skip

# A short informal drink or walk: coffee, tea, a walk, drinks, random pairings.
COFFEE: Table = {
    "en": ("coffee*", "tea", "tea time", "cuppa", "chai", "walk", "walk and talk",
           "walking meeting", "donut", "drinks", "beer*", "happy hour", "afterwork"),
    "de": ("kaffee*", "tee", "spaziergang", "*spaziergang", "plausch", "feierabendbier"),
    "fr": ("cafe", "pause cafe", "un the", "the avec", "balade", "promenade", "apero",
           "un verre"),
    "es": ("cafe", "cafecito", "un te", "paseo", "caminata", "cerveza*"),
    "pt": ("cafe", "cafezinho", "cha", "passeio", "caminhada"),
    "it": ("caffe", "caffettino", "pausa caffe", "un te", "passeggiata", "aperitivo"),
    "nl": ("koffie*", "bakkie", "thee", "wandeling", "wandelen", "borrel"),
    "emoji": ("☕", "🍵", "🧋", "🍩", "🚶", "🍻", "🍺", "🍷"),
}  # fmt: skip

# Says "just the two of us"; with more people these read as a small working meeting.
ONE_ON_ONE: Table = {
    "en": ("1:1", "1:1s", "1-1", "1 on 1", "1x1", "one on one", "one to one", "catch up",
           "check in", "sync w/", "sync with", "f/u", "follow up", "touch base", "chat",
           "<>", "<->", "<=>", "↔"),
    "de": ("bila", "zweiergesprach", "jour fixe", "austausch", "abgleich"),
    "fr": ("tete a tete", "entretien individuel", "point", "faire le point", "echange"),
    "es": ("uno a uno", "1 a 1", "charla", "ponernos al dia"),
    "pt": ("um a um", "conversa", "bate papo", "papo"),
    "it": ("chiacchierata", "faccia a faccia"),
    "nl": ("een op een", "1 op 1", "bijpraten"),
}  # fmt: skip

# A working meeting about a project: good when small.
PROJECT: Table = {
    "en": ("project*", "sync", "review", "planning", "kick off", "retro*", "pairing",
           "pair programming", "design review", "design crit", "working session",
           "work session", "workshop", "brainstorm*", "roadmap", "grooming", "refinement",
           "backlog*", "post mortem", "sprint*", "okr*", "alignment"),
    "de": ("projekt*", "*besprechung", "abstimmung", "auftakt*", "planung", "arbeitssitzung"),
    "fr": ("revue", "reunion de projet", "point projet", "point d avancement", "suivi de projet",
           "atelier", "lancement", "planification", "synchro", "copil", "comite de pilotage"),
    "es": ("proyecto", "reunion de proyecto", "revision", "planificacion", "seguimiento",
           "sincronizacion", "taller", "lanzamiento"),
    "pt": ("projeto", "reuniao de projeto", "revisao", "planejamento", "planeamento",
           "acompanhamento", "alinhamento"),
    "it": ("progetto", "riunione di progetto", "revisione", "pianificazione", "avanzamento",
           "allineamento", "stato avanzamento"),
    "nl": ("*overleg", "afstemming", "voortgang*", "werksessie"),
}  # fmt: skip

# Project rituals that are only worth it when small: a standup of twelve is a status round.
PROJECT_IF_SMALL: Table = {
    "en": ("standup*", "stand up", "daily", "daily scrum", "daily standup", "scrum", "demo",
           "status", "status update", "weekly", "team meeting"),
    "de": ("teammeeting", "teambesprechung"),
    "fr": ("reunion d equipe", "point hebdo", "quotidienne"),
    "es": ("reunion de equipo", "diaria"),
    "pt": ("reuniao de equipe", "diaria"),
    "it": ("riunione di team", "riunione di gruppo"),
    "nl": ("teamoverleg", "dagstart"),
}  # fmt: skip

# Not touchpoints. Away from work entirely.
AWAY: Table = {
    "en": ("ooo", "out of office", "out of the office", "ooto", "vacation*", "holiday*", "pto",
           "day off", "off sick", "sick", "annual leave", "sick leave", "parental leave",
           "maternity leave", "paternity leave", "on leave"),
    "de": ("urlaub", "abwesend", "abwesenheit", "feiertag", "krank*", "elternzeit", "ferien"),
    "fr": ("conges", "conge", "vacances", "absent*", "jour ferie", "arret maladie"),
    "es": ("vacaciones", "ausente", "fuera de la oficina", "festivo", "baja medica"),
    "pt": ("ferias", "folga", "fora do escritorio", "feriado", "ausente"),
    "it": ("ferie", "fuori ufficio", "malattia", "permesso"),
    "nl": ("vakantie", "verlof", "afwezig", "vrije dag", "feestdag", "ziek"),
    "emoji": ("🏖", "🌴", "🏝", "🤒"),
}  # fmt: skip

# Hiring: the conversation is about the candidate, not about you.
INTERVIEW: Table = {
    "en": ("interview*", "candidate*", "phone screen", "tech screen", "screening call"),
    "de": ("vorstellungsgesprach", "bewerbungsgesprach", "bewerber*", "kandidat*"),
    "fr": ("entretien d embauche", "entretien de recrutement", "candidat*"),
    "es": ("entrevista*", "candidato*"),
    "pt": ("entrevista*", "candidato*"),
    "it": ("colloquio di lavoro", "colloquio conoscitivo", "candidato*"),
    "nl": ("sollicitatie*", "kandidaat", "kandidaten"),
}  # fmt: skip

# Time kept free of meetings on purpose.
FOCUS: Table = {
    "en": ("focus time", "focus block", "focus hour*", "focus session", "deep work", "heads down",
           "no meeting*", "do not book", "do not schedule", "dnd", "blocked"),
    "de": ("fokus*", "konzentration*", "keine meetings", "nicht buchen"),
    "fr": ("temps de concentration", "pas de reunion*", "concentration", "ne pas reserver"),
    "es": ("tiempo de enfoque", "concentracion", "sin reuniones", "no reservar"),
    "pt": ("tempo de foco", "foco", "sem reunioes", "nao agendar"),
    "it": ("concentrazione", "niente riunioni", "nessuna riunione"),
    "nl": ("focustijd", "geen meetings", "niet inplannen"),
    "emoji": ("🎧", "🔕", "⛔"),
}  # fmt: skip

# Too many people to talk: company meetings, trainings, talks, parties, events.
CROWD: Table = {
    "en": ("all hands", "town hall*", "training*", "webinar*", "party", "parties",
           "celebration", "conference", "conf", "summit", "off site", "keynote", "meetup",
           "hackathon", "lunch and learn", "lunch & learn", "lunch n learn", "brown bag",
           "fireside chat", "info session", "tech talk", "lecture", "seminar", "course", "ama",
           "q&a", "company meeting", "team building", "career fair"),
    "de": ("betriebsversammlung", "mitarbeiterversammlung", "*feier", "sommerfest",
           "schulung*", "konferenz", "tagung", "vortrag", "weiterbildung"),
    "fr": ("reunion generale", "assemblee generale", "seminaire", "formation", "soiree", "fete",
           "pot de depart", "conference"),
    "es": ("fiesta", "capacitacion", "formacion", "conferencia", "seminario", "reunion general",
           "asamblea"),
    "pt": ("festa", "treinamento", "formacao", "palestra", "confraternizacao"),
    "it": ("festa", "formazione", "conferenza", "seminario", "riunione plenaria"),
    "nl": ("feest*", "congres", "heidag", "personeelsvergadering", "kerstborrel"),
    "emoji": ("🎉", "🥳", "🎊", "🎤"),
}  # fmt: skip

# Personal appointments: the owner's own life, not a work moment.
PERSONAL: Table = {
    "en": ("dentist", "doctor", "doctor s appointment", "gp", "gym", "workout", "yoga",
           "kids pickup", "pick up kids", "school pickup", "school run", "daycare", "haircut",
           "barber", "physio*", "therapy", "therapist", "personal", "private", "vet appointment"),
    "de": ("zahnarzt", "*arzt", "arzttermin", "kita", "friseur", "fitness*", "sport",
           "physiotherapie", "privat", "kinder abholen"),
    "fr": ("dentiste", "medecin", "rdv medical", "coiffeur", "creche", "kine", "perso", "prive",
           "sortie d ecole"),
    "es": ("dentista", "medico", "gimnasio", "peluqueria", "recoger a los ninos", "personal"),
    "pt": ("dentista", "medico", "academia", "cabeleireiro", "buscar as criancas", "pessoal"),
    "it": ("dentista", "medico", "palestra", "parrucchiere", "prendere i bambini", "personale"),
    "nl": ("tandarts", "huisarts", "dokter", "kapper", "sportschool", "kinderen ophalen",
           "prive"),
    "emoji": ("🦷", "💇", "💈", "🏋", "🩺"),
}  # fmt: skip

# Getting somewhere.
TRAVEL: Table = {
    "en": ("flight", "fly to", "train", "hotel", "airport", "commute", "drive to", "taxi",
           "travel*", "trip", "layover", "boarding"),
    "de": ("flug", "zug", "bahn", "bahnfahrt", "*reise", "flughafen"),
    "fr": ("vol pour", "vol vers", "vol retour", "tgv", "aeroport", "deplacement"),
    "es": ("vuelo", "tren", "viaje", "aeropuerto"),
    "pt": ("voo", "comboio", "viagem", "aeroporto"),
    "it": ("volo", "treno", "viaggio", "aeroporto", "trasferta"),
    "nl": ("vlucht", "trein", "reis", "vliegveld"),
    "emoji": ("✈", "🛫", "🛬", "🚆", "🚄", "🚗", "🚕", "🧳"),
}  # fmt: skip

# Phrases blanked out before matching, because a word inside them misleads.
MISLEADING: tuple[str, ...] = (
    "conference call", "conf call", "conf room", "third party", "3rd party", "of course",
    "release candidate", "coffee machine", "kaffeemaschine", "walk through", "idp integration",
    "idp migration", "idp setup", "idp config*",
)  # fmt: skip

# Locations: where it happens says what it is.
PLACE_FOOD: tuple[str, ...] = (
    "restaurant*", "ristorante", "trattoria", "pizzeria", "bistro*", "brasserie", "diner",
    "taverna", "gasthaus", "gasthof", "wirtshaus", "biergarten", "brauhaus", "steakhouse",
    "sushi", "burger*", "food court", "tasca", "osteria",
)  # fmt: skip
PLACE_CAFE: tuple[str, ...] = (
    "cafe", "caffe", "coffee*", "kaffee*", "koffie*", "starbucks", "espresso*", "bakery",
    "backerei", "boulangerie", "pastelaria", "pasticceria", "konditorei", "patisserie",
    "tea room", "teahouse", "roastery",
)  # fmt: skip
PLACE_CANTEEN: tuple[str, ...] = (
    "kantine", "canteen", "cafeteria", "mensa", "cantine", "cantina", "comedor", "refeitorio",
    "restaurant d entreprise", "betriebsrestaurant",
)  # fmt: skip
PLACE_ROOM: tuple[str, ...] = (
    "room", "meeting room", "conference room", "boardroom", "huddle*", "*raum", "salle*",
    "sala", "zaal", "vergaderruimte", "besprechungszimmer",
)  # fmt: skip

# Attendees that are not people: rooms and equipment, and mailing lists.
ROOM_EMAIL_HINTS: tuple[str, ...] = ("resource.calendar.google.com", "@resource.")
ROOM_NAME_PREFIXES: tuple[str, ...] = (
    "room", "raum", "salle", "sala", "zaal", "conf-", "conf.", "meetingroom", "meeting-room",
    "besprechungsraum", "konferenzraum", "boardroom",
)  # fmt: skip
GROUP_EMAIL_HINTS: tuple[str, ...] = (
    "googlegroups.com", "group.calendar.google.com", "@groups.", "@lists.",
)  # fmt: skip
GROUP_LOCAL_PARTS: frozenset[str] = frozenset({
    "all", "everyone", "staff", "team", "company", "announce", "eng", "engineering", "dev",
    "devs", "sales", "marketing", "product", "design", "hr", "office", "alle", "tous", "todos",
    "tutti", "iedereen",
})  # fmt: skip
GROUP_LOCAL_PREFIXES: tuple[str, ...] = ("all-", "all.", "all_", "team-", "team.", "team_")

# Words after "with" that do not name a person ("lunch with the team").
NOT_A_NAME: frozenset[str] = frozenset({
    "the", "team", "everyone", "all", "you", "me", "us", "them", "der", "die", "das", "dem",
    "den", "l", "le", "la", "les", "el", "los", "las", "o", "a", "os", "as", "il", "lo", "gli",
    "de", "het", "equipe", "team s", "others", "friends",
})  # fmt: skip


# Reading the tables -----------------------------------------------------------------------
# The code that reads the phrase syntax lives next to it; the classifier sees compiled patterns.

APOSTROPHES: Final = "'`\u2018\u2019\u00b4"


@lru_cache(maxsize=2048)
def _fold_char(char: str) -> str:
    if char in APOSTROPHES:  # so "d'embauche" reads as two words
        return " "
    # Mn drops accents and emoji variation selectors, Cf drops zero-width joiners.
    parts = unicodedata.normalize("NFKD", char.casefold())
    return "".join(c for c in parts if unicodedata.category(c) not in ("Mn", "Cf"))


@lru_cache(maxsize=8192)
def fold(text: str) -> tuple[str, Sequence[int]]:
    """Return text without case or accents, and where each folded character came from."""
    if text.isascii():  # the common case, and one character stays one character
        return text.casefold().replace("'", " ").replace("`", " "), range(len(text))
    pieces = [_fold_char(char) for char in text]
    origin = [index for index, piece in enumerate(pieces) for _ in piece]
    return "".join(pieces), origin


def compile_phrases(phrases: Iterable[str]) -> re.Pattern[str]:
    """Compile phrases written in the syntax above into one pattern."""
    # Longest first, so "petit dejeuner" wins over "dejeuner" and the reason quotes all of it.
    folded = sorted({fold(p)[0].strip() for p in phrases}, key=len, reverse=True)
    words = [_phrase(p) for p in folded if _wordy(p[0])]
    others = [_phrase(p) for p in folded if not _wordy(p[0])]  # compounds and emoji
    # One word-start check for all word phrases is far cheaper than one per phrase.
    return re.compile("|".join([r"(?<!\w)(?:" + "|".join(words) + ")"] * bool(words) + others))


def _phrase(text: str) -> str:
    core = text.strip("*")
    body = r"[\s\-_.]*".join(re.escape(word) for word in core.split())
    tail = r"\w*" if text.endswith("*") else (r"(?!\w)" if _wordy(core[-1]) else "")
    return body + tail


def _wordy(char: str) -> bool:
    return char.isalnum() or char == "_"


def _table(table: Table) -> re.Pattern[str]:
    return compile_phrases(phrase for phrases in table.values() for phrase in phrases)


TITLE_PATTERNS: Final = {
    "away": _table(AWAY),
    "interview": _table(INTERVIEW),
    "focus": _table(FOCUS),
    "crowd": _table(CROWD),
    "personal": _table(PERSONAL),
    "travel": _table(TRAVEL),
    "career": _table(CAREER),
    "meal": _table(MEAL),
    "coffee": _table(COFFEE),
    "one_on_one": _table(ONE_ON_ONE),
    "project": _table(PROJECT),
    "project_if_small": _table(PROJECT_IF_SMALL),
}
PLACE_PATTERNS: Final = {
    "food": compile_phrases(PLACE_FOOD),
    "cafe": compile_phrases(PLACE_CAFE),
    "canteen": compile_phrases(PLACE_CANTEEN),
    "room": compile_phrases(PLACE_ROOM),
}
_MISLEADING: Final = compile_phrases(MISLEADING)


def scan(text: str, patterns: Mapping[str, re.Pattern[str]]) -> dict[str, str]:
    """Return, per category that matches, the words of the original text that matched."""
    folded = _MISLEADING.sub(lambda m: " " * len(m.group()), fold(text)[0])
    found: dict[str, str] = {}
    for name, pattern in patterns.items():
        if match := pattern.search(folded):
            found[name] = words_behind(text, match.span())
    return found


def words_behind(text: str, span: tuple[int, int]) -> str:
    """Return the words of text behind a span of its folded form, whole words in compounds."""
    folded, origin = fold(text)
    start, end = span
    while start > 0 and _wordy(folded[start]) and _wordy(folded[start - 1]):
        start -= 1
    return text[origin[start] : origin[end - 1] + 1].strip()
