"""Emoji say the same thing in every language."""

from service.engine.vocabulary.language import Language

EMOJI = Language(
    code="emoji",
    career=("🌱",),
    meal=("🍕", "🍔", "🥗", "🍽", "🥪", "🍜", "🍣", "🌮", "🥙", "🍱", "🥘", "🍝", "🥐", "🍳",
          "🍲"),
    coffee=("☕", "🍵", "🧋", "🍩", "🚶", "🍻", "🍺", "🍷"),
    project=("🚀", "🛠", "🐛"),
    away=("🏖", "🌴", "🏝", "🤒"),
    focus=("🎧", "🔕", "⛔"),
    crowd=("🎉", "🥳", "🎊", "🎤"),
    personal=("🦷", "💇", "💈", "🏋", "🩺"),
    travel=("✈", "🛫", "🛬", "🚆", "🚄", "🚗", "🚕", "🧳"),
    cancelled=("❌", "🚫"),
)  # fmt: skip
