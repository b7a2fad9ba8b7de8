"""`charter_html`: a charter's plain text as HTML (headings, lists, paragraphs; all escaped).

Charters are typed in the console as plain text: a line starting with "# " is a heading, lines
starting with "- " make a list, blank lines separate paragraphs. No HTML is ever let through.
"""

from __future__ import annotations

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.filter
def charter_html(text: str) -> SafeString:
    html: list[str] = []
    for block in (text or "").replace("\r\n", "\n").split("\n\n"):
        lines = [line.strip() for line in block.strip().split("\n") if line.strip()]
        if not lines:
            continue
        if lines[0].startswith("# "):
            html.append(f"<h3>{escape(lines[0][2:].strip())}</h3>")
            lines = lines[1:]
        if not lines:
            continue
        if all(line.startswith("- ") for line in lines):
            items = "".join(f"<li>{escape(line[2:].strip())}</li>" for line in lines)
            html.append(f"<ul>{items}</ul>")
        else:
            html.append("<p>" + "<br>".join(escape(line) for line in lines) + "</p>")
    return mark_safe("\n".join(html))  # noqa: S308 - every piece of text above is escaped
