"""Read an admin change form off its rendered HTML and post it back as a browser would.

The point is the round trip: what the page *shows* is what gets posted, so a form that renders a value
on one clock and reads it on another (or renders a list in a shape it cannot read) is caught.
"""

from __future__ import annotations

from html.parser import HTMLParser


class _FormReader(HTMLParser):
    """The fields of the page's first <form method="post"> with their values, as the browser submits them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.fields: list[tuple[str, str]] = []
        self._in_form = False
        self._done = False
        self._textarea: list | None = None
        self._select: str | None = None
        self._select_value: list[str] = []
        self._first_option: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self._done:
            return
        if (
            tag == "form"
            and (a.get("method") or "").lower() == "post"
            and "id" in a
            and a["id"].endswith("_form")
        ):
            self._in_form = True
        if not self._in_form:
            return
        if tag == "input":
            self._input(a)
        elif tag == "textarea" and a.get("name"):
            self._textarea = [a["name"], ""]
        elif tag == "select" and a.get("name"):
            self._select, self._select_value, self._first_option = a["name"], [], None
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            if self._first_option is None:
                self._first_option = value
            if "selected" in a:
                self._select_value.append(value)

    def _input(self, a):
        name, kind = a.get("name"), (a.get("type") or "text").lower()
        if not name or "disabled" in a or kind in {"submit", "button", "image", "file", "reset"}:
            return
        if kind in {"checkbox", "radio"}:
            if "checked" in a:
                self.fields.append((name, a.get("value", "on")))
            return
        self.fields.append((name, a.get("value", "")))

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if not self._in_form:
            return
        if tag == "textarea" and self._textarea is not None:
            # The HTML parser keeps the newline after <textarea>; a browser drops the first one.
            name, text = self._textarea
            self.fields.append((name, text[1:] if text.startswith("\n") else text))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            values = self._select_value or ([self._first_option] if self._first_option is not None else [])
            self.fields.extend((self._select, v) for v in values)
            self._select = None
        elif tag == "form":
            self._in_form, self._done = False, True


def form_fields(page: str) -> dict[str, str | list[str]]:
    """{name: value} of the admin change form in `page` (a list where a name repeats: multi-selects)."""
    reader = _FormReader()
    reader.feed(page)
    data: dict[str, str | list[str]] = {}
    for name, value in reader.fields:
        if name in data:
            data[name] = [*([data[name]] if isinstance(data[name], str) else data[name]), value]
        else:
            data[name] = value
    return data
