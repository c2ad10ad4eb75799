"""A generated news corpus served live on 127.0.0.1, large enough for several process batches,
and the configuration files a run over it reads.

``Corpus`` writes three RSS sources of ``per_source`` articles each. Some articles of the second
and third source repeat articles of the first (a rewrite with a sentence more, or a verbatim
copy), so stories hold several articles across batches; some mention the HKMA, which the
shipped taxonomy tags and the alert rule of ``alerts_toml`` alerts on.

``CorpusSite`` serves the corpus and can hold one path: a request to it is answered only when
the test releases it or the site stops, and ``arrived`` is set when it comes in, so a test can
act (kill the run) while a page request is in flight.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from support import REPO

HOST = "127.0.0.1"
SOURCES = ("wire-a", "wire-b", "wire-c")
TAXONOMY = REPO / "taxonomy.toml"
# Every REWRITE_EVERY-th article of wire-b rewrites the wire-a article of the same number, and
# every COPY_EVERY-th of wire-c copies it word for word: stories that span sources and batches.
REWRITE_EVERY = 10
COPY_EVERY = 15
# Every MENTION_EVERY-th article of each source names the HKMA: tagged, and alerted by
# ``alerts_toml``'s rule, in every batch.
MENTION_EVERY = 9
# A held request wakes this often to see whether it was released or the site is stopping.
HOLD_STEP = 0.05
FIRST_PUBLISHED = datetime(2025, 11, 20, 9, 0, tzinfo=UTC)
# Made-up words (consonant-vowel syllables): thousands, so articles drawn from them share few.
VOCABULARY = tuple(
    a + b + c
    for a in ("ba", "ko", "mi", "tu", "re", "sa", "lo", "ne", "di", "fu", "ga", "pe")
    for b in ("ran", "tel", "mos", "vik", "dun", "per", "sol", "gar", "lin", "bec")
    for c in ("", "a", "o", "is", "um", "et", "an", "or", "ex", "ia", "ul", "yn", "ot", "ek")
)


def article_path(source: str, number: int) -> str:
    """The path of a source's article ``number``."""
    return f"/{source}/2025/11/story-{number}"


def feed_path(source: str) -> str:
    """The path of a source's RSS feed."""
    return f"/{source}/feed.xml"


def _page(title: str, texts: list[str], published: datetime, url: str) -> bytes:
    body = "\n".join(f"<p>{escape(text)}</p>" for text in texts)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{escape(title)}</title><link rel="canonical" href="{url}">
</head><body><nav><a href="/">Home</a></nav><main><article>
<h1 class="headline">{escape(title)}</h1>
<time class="published" datetime="{published.isoformat()}">{published:%d %b %Y}</time>
<div class="story">{body}</div></article></main>
<footer>Corpus News</footer></body></html>""".encode()


def _feed(source: str, base: str, items: list[tuple[str, str, datetime]]) -> bytes:
    entries = "\n".join(
        f"<item><title>{escape(title)}</title><link>{url}</link><guid>{url}</guid>"
        f"<pubDate>{format_datetime(published)}</pubDate></item>"
        for title, url, published in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{source}</title><link>{base}/{source}/</link><description>corpus</description>"
        f"{entries}</channel></rss>"
    ).encode()


def _words(chooser: random.Random, count: int) -> str:
    return " ".join(chooser.choice(VOCABULARY) for _ in range(count))


def paragraphs(seed: str, count: int) -> list[str]:
    """``count`` paragraphs of made-up words, drawn for ``seed``: two seeds share few words, so
    no two articles are one story unless the corpus makes one repeat the other."""
    chooser = random.Random(seed)
    return [
        _words(chooser, 12).capitalize() + ". " + _words(chooser, 30) + "." for _ in range(count)
    ]


def _texts(number: int, seed: str = "") -> list[str]:
    """The paragraphs of article ``number``: wire-a's (which wire-b and wire-c repeat), or
    those of another ``seed``."""
    texts = paragraphs(seed or f"corpus-{number}", 4)
    if number % MENTION_EVERY == 0:
        texts.append(
            f"The Hong Kong Monetary Authority (HKMA) said review {number} would close soon."
        )
    return texts


@dataclass
class Corpus:
    """Pages and feeds of ``SOURCES``, keyed on path, for a site at ``base`` (scheme://host:port)."""

    base: str
    per_source: int
    pages: dict[str, tuple[bytes, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for index, source in enumerate(SOURCES):
            items = [self._article(index, source, n) for n in range(self.per_source)]
            self.pages[feed_path(source)] = (
                _feed(source, self.base, items),
                "application/rss+xml; charset=utf-8",
            )

    @property
    def size(self) -> int:
        """How many articles the corpus holds (every one is stored: copies are rows too)."""
        return len(SOURCES) * self.per_source

    def _article(self, index: int, source: str, number: int) -> tuple[str, str, datetime]:
        url = self.base + article_path(source, number)
        published = FIRST_PUBLISHED - timedelta(minutes=7 * number + index)
        texts = _texts(number)
        title = f"Review {number}: {texts[0][:60]}"
        if source == "wire-b" and number % REWRITE_EVERY == 0:
            texts = [*texts, f"Wire B adds that the review {number} drew wide comment."]
            title = f"Rewrite of review {number}: {texts[0][:60]}"
        elif source != "wire-a" and not (source == "wire-c" and number % COPY_EVERY == 0):
            texts = _texts(number, f"{source}-{number}")
            title = f"{source} report {number}: {texts[0][:60]}"
        self.pages[urlsplit(url).path] = (_page(title, texts, published, url), "text/html")
        return title, url, published

    def sources_toml(self, path: Path) -> Path:
        """Write the sources file of the corpus at ``path``."""
        entries = [
            f'[[source]]\nid = "{source}"\nname = "Corpus {source}"\nkind = "rss"\n'
            f'urls = ["{self.base}{feed_path(source)}"]\n'
            '[source.selectors]\ntitle = "h1.headline"\nbody = "div.story"\n'
            'published = "time.published"\n'
            for source in SOURCES
        ]
        path.write_text("\n".join(entries), encoding="utf-8")
        return path


def alerts_toml(path: Path, hook_url: str, window: str = "0h") -> Path:
    """Write an alerts file whose one rule sends every story naming the HKMA to ``hook_url``.

    By default no initial window: a first run alerts on every item (the corpus is dated
    2025), so a run killed before it finished and run again owes what one uninterrupted run
    owes."""
    path.write_text(
        '[[rule]]\nid = "hkma-mentions"\nentities = ["hkma"]\nchannels = ["hook"]\n\n'
        f'[[channel]]\nid = "hook"\nkind = "apprise"\nurl = "{hook_url}"\ntimeout = 10\n\n'
        f'[delivery]\ninitial_window = "{window}"\nretry_after = "5m"\nmax_attempts = 3\n',
        encoding="utf-8",
    )
    return path


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False


class CorpusSite:
    """Serves a ``Corpus`` on 127.0.0.1; ``hold(path)`` keeps requests to one path waiting."""

    def __init__(self, per_source: int) -> None:
        self.requests: list[str] = []
        self.held_path: str | None = None
        self.arrived = threading.Event()
        self.released = threading.Event()
        self.stopping = threading.Event()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                site.requests.append(path)
                if path == site.held_path:
                    site.arrived.set()
                    while not (site.released.is_set() or site.stopping.is_set()):
                        site.stopping.wait(HOLD_STEP)
                body, kind = site.corpus.pages.get(path, (b"not found", "text/plain"))
                try:
                    self.send_response(200 if path in site.corpus.pages else 404)
                    self.send_header("content-type", kind)
                    self.send_header("content-length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client is gone (killed while the request was held)

        self._server = _Server((HOST, 0), Handler)
        self.url = f"http://{HOST}:{self._server.server_address[1]}"
        self.corpus = Corpus(self.url, per_source)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def hold(self, path: str) -> None:
        """Keep the next requests to ``path`` waiting until ``release`` (or the site stops)."""
        self.arrived.clear()
        self.released.clear()
        self.held_path = path

    def release(self) -> None:
        """Answer the held requests, and hold nothing from now on."""
        self.held_path = None
        self.released.set()

    def start(self) -> CorpusSite:
        """Answer in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Wake held requests, stop serving, free the port."""
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@contextmanager
def corpus_site(per_source: int) -> Iterator[CorpusSite]:
    """A ``CorpusSite`` of ``per_source`` articles per source; stopped on exit."""
    site = CorpusSite(per_source).start()
    try:
        yield site
    finally:
        site.stop()
