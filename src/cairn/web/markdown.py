"""Markdown for descriptions and definitions, rendered so that stored text can never run script.

markdown-it-py with raw HTML switched off: every ``<`` in the source comes out escaped, and its
link validator drops ``javascript:``, ``vbscript:``, ``file:`` and non-image ``data:`` URLs.
Links open with ``rel="nofollow noopener noreferrer"`` because their targets are user input.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from markupsafe import Markup

MAX_SOURCE = 200_000  # render at most this much; a definition longer than that is cut, not hung on


def _link_open(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    tokens[idx].attrSet("rel", "nofollow noopener noreferrer")
    return renderer.renderToken(tokens, idx, options, env)


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.add_render_rule("link_open", _link_open)
    return md


def render_markdown(source: str | None, **_: Any) -> Markup:
    if not source:
        return Markup("")
    return Markup(_parser().render(source[:MAX_SOURCE]))  # noqa: S704 - the parser escapes HTML
