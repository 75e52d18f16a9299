"""Spanish."""

from service.engine.vocabulary.language import Language

SPANISH = Language(
    code="es",
    career=("charla de carrera", "conversacion de carrera", "plan de carrera",
            "plan de desarrollo", "desarrollo profesional", "evaluacion de desempeno",
            "carrera profesional", "carrera", "mentoria", "ascenso", "promocion interna"),
    meal=("almuerzo", "almorzar", "comida", "comer", "cena", "desayuno", "cenar", "desayunar",
          "comemos", "comamos", "cenamos", "desayunamos", "almorzamos"),
    coffee=("cafe", "cafecito", "un te", "paseo", "caminata", "cerveza*", "vermut"),
    one_on_one=("uno a uno", "1 a 1", "charla", "ponernos al dia", "conversacion"),
    project=("proyecto", "reunion de proyecto", "revision", "planificacion", "seguimiento",
             "sincronizacion", "taller", "lanzamiento", "retrospectiva", "arranque"),
    project_if_small=("reunion de equipo", "diaria", "reunion semanal"),
    away=("vacaciones", "ausente", "fuera de la oficina", "festivo", "baja medica",
          "dia libre"),
    interview=("entrevista*", "candidato*", "candidata*", "seleccion de personal"),
    focus=("tiempo de enfoque", "concentracion", "sin reuniones", "no reservar"),
    crowd=("fiesta", "capacitacion", "formacion", "conferencia", "seminario", "reunion general",
           "asamblea", "cena de empresa"),
    personal=("dentista", "medico", "gimnasio", "peluqueria", "recoger a los ninos", "personal",
              "cita medica", "fisio*"),
    family=("tutora", "tutor del", "tutoria del cole", "reunion de padres", "colegio",
            "escuela", "guarderia"),
    travel=("vuelo", "tren", "viaje", "aeropuerto"),
    cancelled=("cancelado", "cancelada", "cancelacion", "anulado", "anulada"),
    declined=("rechazado", "rechazada"),
    with_words=("con",),
    endings=("s", "es"),
)  # fmt: skip
