"""Titles the first classifier missed: cancelled or declined in the title, compounds, clipped
words, career talks with the manager, family appointments, and four more languages."""

from __future__ import annotations

import pytest

from service.engine import vocabulary
from service.engine.classify import classify, is_busy
from service.engine.model import Kind
from tests.engine.test_classify import NOON, judge, kind_of
from tests.factories import BOB, CAROL, DAN, ERIN, alice, at, meeting

TEAM = (CAROL, DAN)


@pytest.mark.parametrize(
    ("title", "words"),
    [
        ("Canceled: Coffee with Ivan", "Canceled"),
        ("Cancelled - Team lunch", "Cancelled"),
        ("Team lunch (cancelled)", "cancelled"),
        ("[Canceled] 1:1", "Canceled"),
        ("Abgesagt: Kaffeerunde", "Abgesagt"),
        ("Annulé : Point carrière", "Annulé"),
        ("Cancelado: Desayuno", "Cancelado"),
        ("Cancelada: Charla", "Cancelada"),
        ("Annullato: Aperitivo", "Annullato"),
        ("Geannuleerd: Bijpraten", "Geannuleerd"),
        ("Odwołane: Kawa", "Odwołane"),
        ("Anulowano: Obiad", "Anulowano"),
        ("Inställt: Lunch med Eva", "Inställt"),
        ("キャンセル: ランチ", "キャンセル"),
        ("【中止】週次定例", "中止"),
        ("已取消：午餐", "已取消"),  # noqa: RUF001 - the full-width colon Chinese titles use
    ],
)
def test_a_title_marked_cancelled_is_cancelled_in_every_language(title: str, words: str) -> None:
    verdict = judge(title, with_=TEAM)

    assert verdict.kind is None
    assert verdict.reasons == (f"the title says {words}: it was cancelled",)
    assert not is_busy(meeting(title, NOON, with_=TEAM))


@pytest.mark.parametrize(
    "title",
    [
        "Declined: Design review",
        "Abgelehnt: Mittagessen",
        "Refusé : Déjeuner",
        "Rechazado: Café",
        "Recusado: Almoço",
        "Rifiutato: Pranzo",
        "Geweigerd: Lunch",
        "Odrzucono: Obiad",
        "Avböjt: Fika",
        "辞退: ランチ",
        "已拒绝: 午饭",
    ],
)
def test_a_title_marked_declined_is_declined(title: str) -> None:
    verdict = judge(title, with_=TEAM)

    assert verdict.kind is None
    assert verdict.reasons[0].endswith(": you declined it")


def test_the_word_cancelled_inside_a_title_does_not_cancel_it() -> None:
    assert kind_of("Cancellation flow review", with_=TEAM) == "project"
    assert kind_of("Declined payments triage", with_=TEAM) == "project"
    assert kind_of("取消订单流程评审", with_=TEAM) == "project"


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        # German: a known part before, a neutral part after, an inflection at the end.
        ("Abschiedsessen", "meal"), ("Mittagstreffen", "meal"), ("Kundenfrühstück", "meal"),
        ("Wochenplanung", "project"), ("Entwicklungsgespräche", "career"),
        # Dutch
        ("Klantlunch", "meal"), ("Afscheidsdiner", "meal"), ("Teamontbijt", "meal"),
        ("Koffiepauze", "coffee"), ("Borreltje", "coffee"), ("Lunchwandelingen", "coffee"),
        ("Kwartaaloverleg", "project"),
        # Swedish
        ("Avdelningsfrukost", "meal"), ("Lunchmöte", "meal"), ("Teammiddag", "meal"),
        ("Fikapaus", "coffee"), ("Projektavstämning", "project"), ("Utvecklingssamtalet", "career"),
        # English, clipped and plural
        ("brkfst", "meal"), ("Brekky w/ Dan", "meal"), ("Design reviews", "project"),
        ("Coffees on the roof", "coffee"), ("perf chat", "career"), ("promo prep", "career"),
    ],
)  # fmt: skip
def test_compounds_clipped_words_and_plurals_are_understood(title: str, kind: Kind) -> None:
    assert kind_of(title, with_=TEAM) == kind


def test_words_glued_to_a_known_part_still_match_whole_words_only() -> None:
    assert kind_of("Teamster union call", with_=TEAM) != "coffee"  # "tea" in "Teamster"
    assert kind_of("Essential metrics", with_=TEAM) != "meal"  # "essen" in "Essential"


@pytest.mark.parametrize(
    "title",
    ["Promo doc feedback", "Growth convo", "Dev convo about next year", "Karrieregespräch",
     "Utvecklingssamtal", "評価面談", "晋升准备", "Rozmowa o awansie", "Plan de desarrollo"],
)  # fmt: skip
def test_career_words_win_over_it_being_the_manager(title: str) -> None:
    verdict = judge(title, with_=(BOB,))

    assert verdict.kind == "career"
    assert "with your manager" in verdict.reasons


def test_the_manager_alone_without_career_words_is_still_a_one_on_one() -> None:
    assert kind_of("Weekly sync", with_=(BOB,)) == "one_on_one"


@pytest.mark.parametrize(
    "title",
    ["Elternsprechtag", "Ouderavond", "Föräldramöte", "家長會", "三者面談", "Parents evening",
     "Reunião de pais", "Colloquio con la maestra", "Utvecklingssamtal på förskolan",
     "Zebranie z rodzicami w szkole"],
)  # fmt: skip
def test_a_family_appointment_is_never_a_touchpoint_even_with_career_words(title: str) -> None:
    verdict = judge(title, with_=("teacher@school.example.org",))

    assert verdict.kind is None
    assert verdict.reasons[0].endswith("a family appointment, not a work moment")


@pytest.mark.parametrize(
    "title",
    ["Rozmowa rekrutacyjna", "Intervju med kandidat", "最終面接", "终面", "Entrevista final",
     "Sollicitatie Jan", "Bewerbungsgespräch"],
)  # fmt: skip
def test_interviews_in_every_language_are_not_touchpoints(title: str) -> None:
    verdict = judge(title, with_=(CAROL,))

    assert verdict.kind is None
    assert "interview" in verdict.reasons[0]


# Four more languages: Polish, Swedish, Japanese, Chinese, judged with two colleagues so a title
# that is not understood cannot pass as a 1:1 (the evening keeps shape rules out of it).
NEW_LANGUAGES: list[tuple[str, Kind | None]] = [
    ("Obiad z Markiem", "meal"), ("Śniadanie zespołu", "meal"), ("Kawka z Anią", "coffee"),
    ("Herbata", "coffee"), ("Spacer z Kubą", "coffee"), ("Rozmowa o rozwoju", "career"),
    ("Ocena okresowa", "career"), ("Rozmowa o podwyżce", "career"),
    ("Warsztat projektowy", "project"), ("Retrospektywa", "project"),
    ("Planowanie kwartału", "project"), ("Rozmowa kwalifikacyjna", None),
    ("Urlop wypoczynkowy", None), ("Szkolenie z RODO", None), ("Przychodnia", None),
    ("Frukost med Eva", "meal"), ("Middag", "meal"), ("Kaffe med Lars", "coffee"),
    ("Promenad", "coffee"), ("Karriärsamtal med chefen", "career"), ("Lönesamtalet", "career"),
    ("Genomgång av arkitekturen", "project"), ("Intervju med kandidat", None),
    ("Julfest", None), ("Vårdcentral", None),
    ("ランチ会", "meal"), ("昼ごはん", "meal"), ("会食", "meal"), ("コーヒーブレイク", "coffee"),
    ("お茶会", "coffee"), ("キャリア面談（上長）", "career"), ("期末面談", "career"),  # noqa: RUF001
    ("週次定例", "project"), ("設計打ち合わせ", "project"), ("スプリントレビュー", "project"),
    ("最終面接", None), ("夏休み", None), ("全社キックオフ", None), ("通院", None),
    ("午饭 @ 食堂", "meal"), ("晚餐", "meal"), ("吃饭", "meal"), ("咖啡时间", "coffee"),
    ("喝奶茶", "coffee"), ("职业规划沟通", "career"), ("述职", "career"),
    ("导师一对一", "career"), ("项目同步会", "project"), ("迭代评审", "project"),
    ("站会", "project"), ("终面", None), ("请假", None), ("培训：安全意识", None),  # noqa: RUF001
    ("看牙医", None),
]  # fmt: skip


@pytest.mark.parametrize(("title", "expected"), NEW_LANGUAGES)
def test_it_understands_polish_swedish_japanese_and_chinese(
    title: str, expected: Kind | None
) -> None:
    verdict = judge(title, with_=TEAM, start=at(4, 19) if expected != "meal" else NOON)

    assert verdict.kind == expected
    assert verdict.reasons


def test_one_on_one_words_in_the_new_languages_need_no_other_signal() -> None:
    # From outside and in the evening, unknown words would not count; these words do.
    for title in ("Spotkanie 1 na 1", "Samtal med Eva", "1on1", "一对一", "1対1", "1對1"):
        assert kind_of(title, with_=(ERIN,), start=at(4, 19)) == "one_on_one", title


def test_the_vocabulary_has_one_small_module_per_language() -> None:
    codes = [language.code for language in vocabulary.LANGUAGES]

    assert codes == ["en", "de", "fr", "es", "pt", "it", "nl", "pl", "sv", "ja", "zh", "emoji"]
    for language in vocabulary.LANGUAGES:
        assert language.meal, language.code
        assert language.coffee, language.code
        assert language.career, language.code


def test_polish_letters_fold_like_their_plain_forms() -> None:
    assert vocabulary.fold("Łódź")[0] == "lodz"
    assert kind_of("Sniadanie", with_=TEAM) == kind_of("Śniadanie", with_=TEAM) == "meal"


def test_the_reason_quotes_the_whole_compound_as_written() -> None:
    assert judge("Teamdiner", with_=TEAM).reasons[0] == "title mentions Teamdiner"
    assert judge("Avdelningsfrukost", with_=TEAM).reasons[0] == "title mentions Avdelningsfrukost"


def test_a_cancelled_title_with_no_one_else_is_cancelled_not_empty() -> None:
    verdict = classify(meeting("Abgesagt: Mittagessen", NOON, with_=()), alice())

    assert verdict.reasons == ("the title says Abgesagt: it was cancelled",)


@pytest.mark.parametrize(
    "title",
    ["Réunion projet Phénix", "Spike: auth tokens", "War-room: checkout errors",
     "Readiness review for GA", "Go/No-Go call", "Bug bash round 2", "Triage des tickets"],
)  # fmt: skip
def test_project_words_cover_spikes_war_rooms_and_readiness_reviews(title: str) -> None:
    verdict = judge(title, with_=TEAM, start=at(4, 19))  # after hours: the words alone decide

    assert verdict.kind == "project"
    assert verdict.reasons[0].startswith("title mentions")


def test_a_rhythm_word_with_one_other_person_is_a_one_on_one() -> None:
    assert kind_of("Weekly status", with_=(CAROL,), start=at(4, 19)) == "one_on_one"
    assert kind_of("Sync", with_=(CAROL,), start=at(4, 19)) == "one_on_one"
    assert kind_of("Weekly status", with_=TEAM, start=at(4, 19)) == "project"
    assert kind_of("Sync", with_=TEAM, start=at(4, 19)) == "project"
    assert kind_of("Pairing", with_=(CAROL,), start=at(4, 19)) == "project"  # a topic, not a rhythm


def test_a_travel_or_personal_word_yields_to_project_words() -> None:
    assert kind_of("Release train planning", with_=TEAM) == "project"
    assert kind_of("Hotel booking flow review", with_=TEAM) == "project"
    assert judge("Hotel check-in", with_=TEAM).reasons[0].endswith("that is travel")


def test_polish_annual_talks_in_any_number_are_career_talks() -> None:
    assert kind_of("Rozmowy roczne", with_=(BOB,)) == "career"
