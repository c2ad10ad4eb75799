"""Tag text with the entities and topics of a taxonomy, keeping the evidence for every tag.

Matching (``matcher``) runs one Aho-Corasick DFA (ahocorasick_rs) over the normalised text
(NFKC, case-folded; ``text``): Latin and CJK terms and the sentence ends together, so an article
is walked once. A term a node marks case-sensitive (short acronyms such as "AI", "SFC", "LEAP")
is matched folded and then kept only if the text has it in exactly that case. Rules, in the
order they apply:

- A term that starts or ends with a Latin letter or digit needs a word boundary there: "AI" is
  never found in "SAID" or "paid". CJK terms match without spaces. Two exceptions on the right
  edge: a topic term may take a plural "s" ("stablecoins"), and a lower-case end followed by a
  capital counts as a boundary, because scraped text glues ticker links to names ("BitcoinBTC").
- A node with ``requires_context`` is found only when one of those words is in the same
  sentence ("Whale" with "blockchain" or "platform"; never "whale watching").
- Where matches overlap, the longest wins. An entity yields to any longer overlapping match, so
  a place inside a longer name is not counted ("Hong Kong Monetary Authority" is not also Hong
  Kong, "數碼港元" is the e-HKD and not Cyberport). A topic yields only to a longer topic: a topic
  word inside an entity's name still counts for the topic (the GenAI Sandbox is about GenAI,
  Hong Kong Fintech Week about fintech).
- Short forms (a surname, an abbreviation) count only after one of the node's full terms
  ended earlier in the text; then they win over another node's term of the same spelling, as
  when an HKMA circular defines "authorized institutions (AIs)" and "AI" no longer means the
  topic.

The tagger (``tagger``) then implies parents from children: a parent's count is its own matches
plus its emitted children's, its evidence comes from all of them. A topic is emitted once its
count reaches its ``min_count``. Evidence is the sentence around each of the first few matches,
each sentence cut into a snippet once, when a tag first asks for it.
"""

from __future__ import annotations

from pipeline.tag.tagger import ATTACHED_CATEGORY, ATTACHED_ENTITY, EVIDENCE_LIMIT, Tagger
from pipeline.tag.text import SNIPPET_CHARS
from pipeline.taxonomy import load_taxonomy

__all__ = [
    "ATTACHED_CATEGORY",
    "ATTACHED_ENTITY",
    "EVIDENCE_LIMIT",
    "SNIPPET_CHARS",
    "Tagger",
    "load_taxonomy",
]
