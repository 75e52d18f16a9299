"""Submit the consent page's own form the way a browser would, for tests without a browser."""

from __future__ import annotations

from html.parser import HTMLParser


class ConsentForm(HTMLParser):
    """Collect the inputs of the consent page: hidden fields, the email box, the checkboxes."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self.checkboxes: list[tuple[str, str, bool]] = []
        self.buttons: set[str] = set()
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "button":
            self.buttons.add(found.get("value", ""))
        elif tag == "input" and found.get("type") == "checkbox":
            self.checkboxes.append((found["name"], found["value"], "checked" in found))
        elif tag == "input":
            self.fields.append((found["name"], found.get("value", "")))

    def submission(
        self, *, email: str | None, keep: frozenset[str] | None, allow: bool
    ) -> list[tuple[str, str]]:
        """Return the form data after signing in as email and unticking what keep leaves out."""
        data = [(n, email if n == "email" and email else v) for n, v in self.fields]
        for name, value, checked in self.checkboxes:
            if (keep is None and checked) or (keep is not None and value in keep):
                data.append((name, value))
        decision = "allow" if allow else "deny"
        assert decision in self.buttons, f"the consent page has no {decision} button"
        return [*data, ("decision", decision)]
