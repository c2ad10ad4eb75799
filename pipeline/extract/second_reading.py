"""A second reading of a page in which the first found no article text.

The first reading prunes layout elements and furniture-named boxes before the generic finder
looks for the body. On a few pages that removes the article itself, or the article is not in
the markup the parser builds a tree from:

- a site that sets the whole article in an ``<aside>`` (inside its ``<main>``), or lays out its
  page in ``<nav>`` or ``<footer>`` boxes;
- a blog whose post is markup inside a ``<script type="text/template">`` that a script puts on
  the page (Blogger's themes for Google's blogs).

So when the first reading finds nothing, the page is parsed again, each template's markup is
put in its place, and the tree is pruned as before but for the layout elements. What the
generic finder then reads counts only when it holds a paragraph of prose: with less pruned, a
page with no article (a video, a sign-in form) would otherwise yield its dialogs and menus.
Pages the first reading serves never pay for this.
"""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser, LexborNode

from pipeline.extract.boilerplate import PROSE_PARAGRAPH_CHARS, prune
from pipeline.extract.generic import main_content

# <script> types whose content is markup a script puts on the page, not code: Blogger's
# "text/template" holds the post. Interface templates ("text/x-handlebars-template", Vue's
# "text/x-template") hold placeholders and widgets, not articles, and are left unread.
TEMPLATE_TYPES = frozenset({"text/template"})


def second_reading(tree: LexborHTMLParser, title: str | None) -> str:
    """The article text of a freshly parsed ``tree`` read with layout elements kept and
    templates read; ``""`` when it holds no paragraph of prose."""
    body = tree.body
    if body is None:
        return ""
    _read_templates(body)
    prune(tree, layout=False)
    found = main_content(tree, title)
    if not any(len(block.text) >= PROSE_PARAGRAPH_CHARS for block in found):
        return ""
    return "\n\n".join(block.text for block in found)


def _read_templates(body: LexborNode) -> None:
    """Replace each template ``<script>`` in ``body`` by the elements its markup makes."""
    for script in body.css("script[type]"):
        if (script.attrs.get("type") or "").strip().lower() not in TEMPLATE_TYPES:
            continue
        # The markup is part of the page, so the budget checked on the page bounds it.
        holder = LexborHTMLParser(script.text(deep=True)).body
        for node in holder.iter(include_text=True) if holder is not None else ():
            script.insert_before(node)  # copied into this tree
        script.decompose()
