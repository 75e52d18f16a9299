"""Italian."""

from service.engine.vocabulary.language import Language

ITALIAN = Language(
    code="it",
    career=("colloquio di crescita", "colloquio di carriera", "percorso di carriera", "carriera",
            "piano di sviluppo", "sviluppo professionale", "colloquio di valutazione",
            "valutazione annuale", "mentoring", "promozione"),
    meal=("pranzo", "pausa pranzo", "cena", "colazione", "pranzi", "cene"),
    coffee=("caffe", "caffettino", "pausa caffe", "un te", "passeggiata", "aperitivo",
            "apericena"),
    one_on_one=("chiacchierata", "faccia a faccia", "uno a uno"),
    project=("progetto", "riunione di progetto", "revisione", "pianificazione", "avanzamento",
             "allineamento", "stato avanzamento", "retrospettiva", "workshop"),
    project_if_small=("riunione di team", "riunione di gruppo", "riunione settimanale"),
    away=("ferie", "fuori ufficio", "malattia", "permesso"),
    interview=("colloquio di lavoro", "colloquio conoscitivo", "candidato*", "candidata*",
               "selezione"),
    focus=("concentrazione", "niente riunioni", "nessuna riunione"),
    crowd=("festa", "formazione", "conferenza", "seminario", "riunione plenaria"),
    personal=("dentista", "medico", "palestra", "parrucchiere", "prendere i bambini",
              "personale", "visita medica"),
    family=("insegnanti", "colloquio con la maestra", "colloqui scuola", "scuola",
            "ricevimento genitori", "genitori"),
    travel=("volo", "treno", "viaggio", "aeroporto", "trasferta"),
    cancelled=("annullato", "annullata", "cancellato", "cancellata"),
    declined=("rifiutato", "rifiutata"),
    with_words=("con",),
)  # fmt: skip
