"""Reading an HTML page as a person (or a screen reader) would: its heading, its
text, its form's fields with their labels, values and the errors tied to them. For
the tests of the ledger's store-ID page over plain HTTP (the browser test uses
Chromium itself)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

_VOID = {"input", "meta", "link", "br", "img", "hr"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""
    children: list[Element] = field(default_factory=list)


@dataclass
class Field:
    name: str
    label: str
    value: str
    invalid: bool
    described_by: list[str]  # the texts its aria-describedby names, in order


@dataclass
class Page:
    elements: list[Element]
    text: str  # all visible text, whitespace collapsed

    def by_id(self, element_id: str) -> Element:
        (found,) = [e for e in self.elements if e.attrs.get("id") == element_id]
        return found

    def all(self, tag: str) -> list[Element]:
        return [e for e in self.elements if e.tag == tag]

    @property
    def title(self) -> str:
        return self.all("title")[0].text

    @property
    def heading(self) -> str:
        return self.all("h1")[0].text

    def hidden(self, name: str) -> str:
        (found,) = [
            e
            for e in self.all("input")
            if e.attrs.get("type") == "hidden" and e.attrs.get("name") == name
        ]
        return found.attrs.get("value", "")

    def fields(self) -> list[Field]:
        """The text inputs, each with its label (by ``for``) and described-by texts."""
        labels = {e.attrs.get("for"): e.text for e in self.all("label")}
        found = []
        for e in self.all("input"):
            if e.attrs.get("type") != "text":
                continue
            ids = e.attrs.get("aria-describedby", "").split()
            found.append(
                Field(
                    name=e.attrs["name"],
                    label=labels.get(e.attrs.get("id"), ""),
                    value=e.attrs.get("value", ""),
                    invalid=e.attrs.get("aria-invalid") == "true",
                    described_by=[self.by_id(i).text for i in ids],
                )
            )
        return found

    def field(self, name: str) -> Field:
        (found,) = [f for f in self.fields() if f.name == name]
        return found


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.open: list[Element] = []
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.elements.append(element)
        if self.open:
            self.open[-1].children.append(element)
        if tag not in _VOID:
            self.open.append(element)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index].tag == tag:
                del self.open[index:]
                return

    def handle_data(self, data: str) -> None:
        if any(e.tag in ("style", "script") for e in self.open):
            return
        for element in self.open:
            element.text += data
        self.texts.append(data)


def read_page(html: str) -> Page:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    for element in reader.elements:
        element.text = " ".join(element.text.split())
    return Page(reader.elements, " ".join(" ".join(reader.texts).split()))
