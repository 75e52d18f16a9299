"""Polish: words are written as stems, and the endings below give their cases ("kaw" + "ę")."""

from service.engine.vocabulary.language import Language

POLISH = Language(
    code="pl",
    career=("rozmow rozwojow", "rozmow o rozwoju", "sciezk karier", "sciezce karier",
            "sciezk rozwoju", "sciezce rozwoju", "karier", "rozwoj kariery",
            "ocen roczn", "rozmow roczn", "ocen okresow", "rozmow okresow", "rozmow oceniajac",
            "awans", "plan rozwoju", "mentoring*", "rozmow o podwyzce", "podwyzk"),
    meal=("obiad", "sniadani", "kolacj", "lunch", "wspolny posilek", "posilek"),
    coffee=("kaw", "kawk", "herbat", "herbatk", "spacer", "piwo", "piwko"),
    one_on_one=("rozmow", "jeden na jeden", "spotkani indywidualn", "1 na 1"),
    project=("projekt*", "spotkani projektow", "przeglad", "planowani", "warsztat",
             "retrospektyw", "status projektu", "synchronizacj", "kick off", "odbior"),
    project_if_small=("spotkani zespol", "daily", "spotkani tygodniow"),
    away=("urlop", "nieobecn", "wolne", "swieto", "l4", "zwolnieni lekarski", "chorobow"),
    interview=("rozmow kwalifikacyjn", "rekrutacj", "kandydat*", "rozmow rekrutacyjn"),
    focus=("czas na skupieni", "bez spotkan", "skupieni"),
    crowd=("szkoleni", "imprez", "konferencj", "wigilia firmow", "integracj", "spotkani ogolne",
           "zebrani ogolne"),
    personal=("lekarz", "dentyst", "fryzjer", "silowni", "prywatn", "przychodni", "badani"),
    family=("wywiadowk", "zebrani z rodzicami", "rodzic", "szkol", "przedszkol",
            "wychowawc"),
    travel=("lot do", "pociag", "podroz", "lotnisk", "delegacj"),
    cancelled=("odwolane", "odwolano", "anulowane", "anulowano", "odwolany", "anulowany"),
    declined=("odrzucono", "odrzucone", "odrzucony"),
    with_words=("z", "ze"),
    endings=("a", "e", "i", "o", "u", "y", "ie", "em", "om", "ow", "ach", "ami", "ego", "emu",
             "ej", "ym", "ka", "ki", "ke", "ku", "ce", "ze", "owa", "owe", "owy", "owej",
             "owym", "iem", "ia", "iu", "ii", "ja", "ji", "je", "a"),
)  # fmt: skip
