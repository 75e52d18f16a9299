"""Portuguese (Portugal and Brazil)."""

from service.engine.vocabulary.language import Language

PORTUGUESE = Language(
    code="pt",
    career=("conversa de carreira", "plano de carreira", "carreira", "pdi",
            "plano de desenvolvimento", "desenvolvimento profissional", "avaliacao de desempenho",
            "mentoria", "promocao"),
    meal=("almoco", "almocar", "jantar", "pequeno almoco", "cafe da manha", "lanche"),
    coffee=("cafe", "cafezinho", "cha", "passeio", "caminhada", "chopp", "happy hour"),
    one_on_one=("um a um", "conversa", "bate papo", "papo"),
    project=("projeto", "reuniao de projeto", "revisao", "planejamento", "planeamento",
             "acompanhamento", "alinhamento", "oficina", "retrospectiva", "kickoff"),
    project_if_small=("reuniao de equipe", "reuniao de equipa", "diaria"),
    away=("ferias", "folga", "fora do escritorio", "feriado", "ausente", "licenca"),
    interview=("entrevista*", "candidato*", "candidata*", "recrutamento"),
    focus=("tempo de foco", "foco", "sem reunioes", "nao agendar"),
    crowd=("festa", "treinamento", "formacao", "palestra", "confraternizacao", "conferencia"),
    personal=("dentista", "medico", "academia", "cabeleireiro", "buscar as criancas",
              "pessoal", "consulta"),
    family=("reuniao de pais", "escola", "professora", "creche"),
    travel=("voo", "comboio", "viagem", "aeroporto"),
    cancelled=("cancelado", "cancelada", "cancelamento"),
    declined=("recusado", "recusada"),
    with_words=("com",),
    endings=("s", "es"),
)  # fmt: skip
