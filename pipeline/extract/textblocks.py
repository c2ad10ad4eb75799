"""An element's text as paragraphs: every block element (p, h2/h3, li, blockquote, div…) ends one.

One iterative walk per subtree, in document order: inline elements and text nodes add to the
current paragraph, block elements and ``<br>`` close it. Each paragraph remembers how much of its
text sat inside links, which is what tells a list of related links from prose.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from selectolax.lexbor import LexborNode

# Elements whose end (and start) closes a paragraph.
BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "section",
        "article",
        "main",
        "header",
        "footer",
        "aside",
        "nav",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "li",
        "ul",
        "ol",
        "dl",
        "dt",
        "dd",
        "blockquote",
        "pre",
        "table",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "td",
        "th",
        "caption",
        "address",
        "details",
        "summary",
        "center",
        "form",
        "fieldset",
        "hr",
        "br",
        "body",
        "html",
    }
)
# Elements whose text is never article prose: code, media, form controls, captions.
SKIP_TAGS = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "svg",
        "math",
        "button",
        "select",
        "option",
        "input",
        "textarea",
        "label",
        "iframe",
        "object",
        "embed",
        "canvas",
        "video",
        "audio",
        "picture",
        "img",
        "figcaption",
        "figure",
        "head",
        "title",
        "meta",
        "link",
        "dialog",
    }
)
HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})


@dataclass(frozen=True, slots=True)
class Block:
    """One paragraph of text with the tag that held it and how much of it was link text."""

    text: str
    tag: str
    link_chars: int

    @property
    def link_density(self) -> float:
        """Share of the paragraph's characters inside ``<a>`` elements."""
        return self.link_chars / len(self.text) if self.text else 0.0


def blocks(root: LexborNode) -> list[Block]:
    """The paragraphs under ``root`` in document order, whitespace collapsed, empties dropped."""
    out: list[Block] = []
    parts: list[str] = []
    link_chars = 0
    block_tag = root.tag or "div"

    def flush() -> None:
        nonlocal link_chars
        if parts:
            text = " ".join("".join(parts).split())
            if text:
                out.append(Block(text, block_tag, min(link_chars, len(text))))
            parts.clear()
        link_chars = 0

    # (children iterator, inside a link, element tag or "" for inline elements)
    stack: list[tuple[Iterator[LexborNode], bool, str]] = [
        (root.iter(include_text=True), root.tag == "a", block_tag)
    ]
    tag_stack: list[str] = [block_tag]
    while stack:
        children, in_link, closing = stack[-1]
        node = next(children, None)
        if node is None:
            stack.pop()
            if closing:
                flush()
                tag_stack.pop()
                block_tag = tag_stack[-1] if tag_stack else "div"
            continue
        if node.is_text_node:
            text = node.text_content
            if text:
                parts.append(text)
                if in_link:
                    link_chars += len(text.strip())
            continue
        if not node.is_element_node:
            continue
        tag = node.tag or ""
        if tag in SKIP_TAGS:
            continue
        if tag in BLOCK_TAGS:
            flush()
            if tag in ("br", "hr"):
                continue
            block_tag = tag
            tag_stack.append(tag)
            stack.append((node.iter(include_text=True), in_link or tag == "a", tag))
        elif tag != "wbr":
            stack.append((node.iter(include_text=True), in_link or tag == "a", ""))
    flush()
    return out
