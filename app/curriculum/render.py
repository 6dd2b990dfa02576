"""Lesson Markdown to safe HTML, done once per content version at sync time."""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p",
    "h2",
    "h3",
    "h4",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "a",
    "blockquote",
    "code",
    "pre",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "hr",
    "br",
}
# no style attributes: the Content-Security-Policy allows no inline style
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}


class _LessonMarkdown(MarkdownIt):
    """CommonMark that also accepts ``lesson:`` links (rewritten to lesson pages)."""

    def validateLink(self, url: str) -> bool:
        return url.startswith("lesson:") or super().validateLink(url)


@lru_cache
def _md() -> MarkdownIt:
    md = _LessonMarkdown("commonmark", {"html": False, "linkify": False, "typographer": True})
    md.enable(["table", "strikethrough", "replacements", "smartquotes"])
    md.options["quotes"] = "“”‘’"
    return md


def _rewrite_links(html: str) -> str:
    return html.replace('href="lesson:', 'href="/learn/lessons/')


def render_markdown(text: str) -> str:
    """Markdown → HTML → sanitized; ``lesson:SLUG`` links point to the lesson page.
    A top-level heading inside a lesson becomes h2 (the page already has its h1)."""
    html = _md().render(text)
    html = html.replace("<h1>", "<h2>").replace("</h1>", "</h2>")
    html = _rewrite_links(html)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )
