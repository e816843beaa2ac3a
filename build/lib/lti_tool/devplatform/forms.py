"""Read the auto-submitting forms the platform (or a tool) serves, to drive launches over HTTP."""

from __future__ import annotations

from html.parser import HTMLParser


class _FormReader(HTMLParser):
    def __init__(self):
        super().__init__()
        self.action: str | None = None
        self.method: str | None = None
        self.fields: dict[str, str] = {}
        self._forms = 0

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "form":
            self._forms += 1
            if self._forms == 1:
                self.action, self.method = values.get("action"), (values.get("method") or "get")
        elif tag == "input" and self._forms == 1 and values.get("name"):
            self.fields[values["name"]] = values.get("value") or ""


def read_form(html: str) -> tuple[str, str, dict[str, str]]:
    """(action, method, fields) of the first form in a page; ValueError when there is none."""
    reader = _FormReader()
    reader.feed(html)
    if reader.action is None:
        raise ValueError("the page has no form")
    return reader.action, reader.method.lower(), reader.fields
