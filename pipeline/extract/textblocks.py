"""An element's text as paragraphs: every block element (p, h2/h3, li, blockquote, div…) ends one.

One iterative walk per subtree, in document order: inline elements and text nodes add to the
current paragraph, block elements and ``<br>`` close it. Each paragraph remembers how much of its
text sat inside links, which is what tells a list of related links from prose.
"""

from __future__ import annotations

from typing import NamedTuple

from selectolax.lexbor import LexborHTMLParser, LexborNode

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

# Walks tell nodes apart by lexbor's tag id, a number read four times faster than the name:
# text nodes have TEXT_ID, comments, the doctype and the document ids up to LAST_NODE_ID, and
# elements higher ones (fixed for the standard names, made up per page for others).
_SAMPLE = LexborHTMLParser("<!doctype html><p>x<!--y--></p>")


def tag_id(name: str) -> int:
    """lexbor's id of the standard element ``name``."""
    return int(_SAMPLE.create_node(name).tag_id)


def _node_ids() -> tuple[int, int, int]:
    """The ids of a text node, of the last kind of node that is no element, and of the
    document node above <html>."""
    paragraph = _SAMPLE.css_first("p")
    document = _SAMPLE.root.parent if _SAMPLE.root is not None else None
    assert paragraph is not None and paragraph.first_child is not None
    assert paragraph.last_child is not None and document is not None
    doctype = document.first_child
    assert doctype is not None
    others = (paragraph.last_child.tag_id, doctype.tag_id, document.tag_id)
    return int(paragraph.first_child.tag_id), int(max(others)), int(document.tag_id)


TEXT_ID, LAST_NODE_ID, DOCUMENT_ID = _node_ids()
_SKIP_IDS = frozenset(tag_id(name) for name in SKIP_TAGS)
_BLOCK_NAMES = {tag_id(name): name for name in BLOCK_TAGS}
_LINK_ID = tag_id("a")
_LINE_BREAK_IDS = frozenset((tag_id("br"), tag_id("hr")))
_WBR_ID = tag_id("wbr")


# A named tuple, not a frozen dataclass: made for every paragraph of every page walked, it is
# built in half the time.
class Block(NamedTuple):
    """One paragraph of text with the tag that held it and how much of it was link text."""

    text: str
    tag: str
    link_chars: int

    @property
    def link_density(self) -> float:
        """Share of the paragraph's characters inside ``<a>`` elements."""
        return self.link_chars / len(self.text) if self.text else 0.0


# A block made by tuple's constructor in C, as ``Block(...)`` does it through a Python-level
# ``__new__`` in twice the time: a page of a large table makes thousands.
_new_block = tuple.__new__


def blocks(root: LexborNode) -> list[Block]:
    """The paragraphs under ``root`` in document order, whitespace collapsed, empties dropped.

    Whitespace that starts a paragraph adds nothing to it nor to its link text: skipped, the
    indentation between table cells and list items opens no paragraph to flush. Inside one,
    indentation (which lexbor tells apart without making its string) is one space between
    words, as it is once whitespace is collapsed. The walk goes by first child and next
    sibling, not a generator per element; open elements wait on a stack with their parent's
    state: (element, inside a link, tag or "" if inline)."""
    out: list[Block] = []
    parts: list[str] = []
    link_chars = 0
    block_tag = root.tag or "div"
    stack: list[tuple[LexborNode, bool, str]] = []
    tag_stack: list[str] = [block_tag]
    in_link = root.tag == "a"
    closing = block_tag
    node = root.first_child
    while True:
        if node is None:
            if closing:
                if parts:
                    link_chars = _flush(parts, block_tag, link_chars, out)
                tag_stack.pop()
                block_tag = tag_stack[-1] if tag_stack else "div"
            if not stack:
                break
            parent, in_link, closing = stack.pop()
            node = parent.next
            continue
        kind = node.tag_id
        if kind == TEXT_ID:
            if node.is_empty_text_node:  # indentation
                if parts:
                    parts.append(" ")
            elif (text := node.text_content) and (parts or not text.isspace()):
                parts.append(text)
                if in_link:
                    link_chars += len(text.strip())
        elif kind > LAST_NODE_ID and kind not in _SKIP_IDS:
            tag = _BLOCK_NAMES.get(kind)
            if tag is not None:
                if parts:
                    link_chars = _flush(parts, block_tag, link_chars, out)
                if kind not in _LINE_BREAK_IDS:
                    child = node.first_child
                    # A block of one text node (a table's cell, a list item) is read without a
                    # visit: a quarter of the walk on a page of tables.
                    if child is not None and child.tag_id == TEXT_ID and child.next is None:
                        if words := (text := child.text_content or "").split():
                            line = " ".join(words)
                            linked = min(len(text.strip()), len(line)) if in_link else 0
                            out.append(_new_block(Block, (line, tag, linked)))
                        node = node.next
                        continue
                    block_tag = tag
                    tag_stack.append(tag)
                    stack.append((node, in_link, closing))
                    node, closing = child, tag
                    continue
            elif kind != _WBR_ID:
                stack.append((node, in_link, closing))
                node, in_link, closing = node.first_child, in_link or kind == _LINK_ID, ""
                continue
        node = node.next
    if parts:
        _flush(parts, block_tag, link_chars, out)
    return out


def _flush(parts: list[str], tag: str, link_chars: int, out: list[Block]) -> int:
    """Add the paragraph of ``parts`` (text pending), ``link_chars`` of it in links, to ``out``
    unless blank, and empty ``parts``; returns the link characters the next one starts with."""
    text = " ".join((parts[0] if len(parts) == 1 else "".join(parts)).split())
    if text:
        out.append(_new_block(Block, (text, tag, min(link_chars, len(text)))))
    parts.clear()
    return 0
