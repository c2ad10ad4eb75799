"""What an ingestion run pays for running as a Prefect flow, and how that grows.

Measures, and prints as two tables:

- the fixed cost, in one fresh process: importing Prefect with the flows (beside importing
  the pipeline alone), the first flow run (which starts Prefect's temporary API server, or
  connects to ``PREFECT_API_URL`` when set), the next empty flow run, and one async task run
  given a batch-sized argument (what each discover, fetch and process task costs at least);
- the same replayed corpus run twice, by the plain ``pipeline.ingest`` run (``run_once``, no
  Prefect) and by the real ``daily-ingest`` flow (a task per source for discovery and for
  fetching, a task per batch of ``BATCH_SIZE`` items for processing): 28 sources and 280
  sources with the same number of articles, and 28 sources with a tenth of them. The flow's
  overhead is its CPU time minus the plain run's, counting this process and the temporary
  server until it has recorded the run's events: wall time is shown too, but on a shared
  machine it says as much about the neighbours. The cost per source follows from the
  difference between 28 and 280 sources.

The corpora are written by ``bench/pipeline.py`` (generated RSS sources, articles built from
the seed articles' sentences), each run into a fresh SQLite file. Linux only: the server's CPU
is read from ``/proc``.
The cost per batch is the task run's, in the first table: the runs share their batches'
count between 28 and 280 sources, and a tenth of the articles saves too few batches to show
through the run's own noise.
Usage: ``python bench/prefect_overhead.py [--articles 2800] [--sources 28] [--many 280]
[--repeat 2]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path, and ``pipeline.py`` beside this file
# would shadow the ``pipeline`` package it measures.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import asyncio
import importlib.util
import json
import os
import resource
import subprocess
import tempfile
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from pipeline.ingest import BATCH_SIZE, IngestOptions, run_once
from pipeline.models import Source
from pipeline.store import db

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NEWSWATCH_SHARED_DIR") or REPO.parent / "shared")

# Timed in a fresh process, so nothing is imported or started yet: wall and CPU seconds of
# that process (the temporary server's own CPU is not in it).
FIXED_COST_SCRIPT = """
import asyncio, json, sys, time
marks = [(time.perf_counter(), time.process_time())]
mark = lambda: marks.append((time.perf_counter(), time.process_time()))
import pipeline.ingest
mark()
import flows.daily_ingest
from prefect import flow, task
from prefect.cache_policies import NONE
mark()

@task(cache_policy=NONE)
async def step(batch):
    return len(batch)

@flow
async def empty():
    return None

@flow
async def steps(count, batch):
    for _ in range(count):
        await step(batch)

asyncio.run(empty())
mark()
asyncio.run(empty())
mark()
count = int(sys.argv[1])
batch = [("https://news.example/%d" % i, "x" * 2000) for i in range(200)]
asyncio.run(steps(0, batch))
mark()
asyncio.run(steps(count, batch))
mark()
spans = [[b[0] - a[0], b[1] - a[1]] for a, b in zip(marks, marks[1:])]
names = ["import_pipeline", "import_prefect", "first_flow_run", "next_flow_run"]
result = dict(zip(names, spans))
result["task_run"] = [(spans[5][i] - spans[4][i]) / count for i in (0, 1)]
result["own_cpu"] = time.process_time()
print(json.dumps(result))
"""


@dataclass(frozen=True)
class Corpus:
    """A generated corpus: how many sources, how many articles across them."""

    sources: int
    articles: int

    @property
    def name(self) -> str:
        """How the table names it."""
        return f"{self.sources} sources x {self.articles // self.sources}"

    @property
    def batches(self) -> int:
        """Process batches a first run of it makes (every article is new)."""
        return -(-self.articles // BATCH_SIZE)


@dataclass(frozen=True)
class Cost:
    """One run: wall seconds, and CPU seconds of this process and of the processes it started
    (Prefect's temporary server, which goes on recording a flow run's events after it ends)."""

    wall: float
    cpu: float
    new: int


@dataclass(frozen=True)
class Timing:
    """One corpus run both ways (the cheapest of the repeats each way)."""

    corpus: Corpus
    plain: Cost
    flow: Cost

    @property
    def overhead(self) -> float:
        """The CPU seconds the flow cost beyond the plain run: what Prefect adds, whatever
        else the machine is doing."""
        return self.flow.cpu - self.plain.cpu


def _descendants_cpu(root: int) -> float:
    """CPU seconds used so far by the living processes below ``root`` (Linux ``/proc``)."""
    children: dict[int, list[int]] = {}
    used: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        pid = int(stat.parent.name)
        children.setdefault(int(fields[1]), []).append(pid)
        used[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, list(children.get(root, []))
    while todo:
        pid = todo.pop()
        total += used.get(pid, 0.0)
        todo.extend(children.get(pid, []))
    return total


def cpu_now() -> float:
    """CPU seconds of this process and the processes it started."""
    return time.process_time() + _descendants_cpu(os.getpid())


def settle(quiet: float = 0.05, limit: float = 60.0) -> None:
    """Wait until the processes this one started are idle (the temporary server has recorded
    the last run's events), so that one run's after-work is not billed to the next."""
    deadline = time.monotonic() + limit
    before = _descendants_cpu(os.getpid())
    while time.monotonic() < deadline:
        time.sleep(1.0)
        after = _descendants_cpu(os.getpid())
        if after - before < quiet:
            return
        before = after


def bench_pipeline() -> ModuleType:
    """``bench/pipeline.py``, loaded under a name that does not shadow the package."""
    spec = importlib.util.spec_from_file_location("bench_pipeline", REPO / "bench" / "pipeline.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def fixed_costs(env: dict[str, str], task_runs: int = 50) -> dict[str, Any]:
    """The fixed costs, measured in a fresh Python process; with the CPU its temporary server
    used (what the process and the children it waited for used, beyond its own)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(
        [sys.executable, "-c", FIXED_COST_SCRIPT, str(task_runs)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"the fixed-cost measurement failed:\n{result.stderr[-3000:]}")
    costs = dict(json.loads(result.stdout.strip().splitlines()[-1]))
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    costs["server_cpu"] = used - costs.pop("own_cpu")
    return costs


def write_sources(path: Path, sources: list[Source]) -> None:
    """A ``sources.toml`` for the generated sources."""
    entries = []
    for source in sources:
        selectors = source.selectors
        entries.append(
            f'[[source]]\nid = "{source.id}"\nname = "{source.name}"\nkind = "rss"\n'
            f'urls = ["{source.urls[0]}"]\n[source.selectors]\n'
            f'title = "{selectors.title}"\nbody = "{selectors.body}"\n'
            f'published = "{selectors.published}"\nremove = {json.dumps(list(selectors.remove))}\n'
        )
    path.write_text("\n".join(entries), encoding="utf-8")


def options(directory: Path, name: str) -> IngestOptions:
    """A run of the corpus in ``directory`` into a new SQLite file ``name``."""
    url = f"sqlite:///{directory / name}"
    db.upgrade(url)
    return IngestOptions(
        db_url=url,
        sources_path=directory / "sources.toml",
        taxonomy_path=REPO / "taxonomy.toml",
        alerts_path=directory / "alerts.toml",
        replay=directory / "http",
    )


async def run_flow(run: IngestOptions) -> dict[str, Any]:
    """The real ``daily-ingest`` flow over the same options."""
    from flows.daily_ingest import daily_ingest

    return await daily_ingest(
        db_url=run.db_url,
        sources_path=str(run.sources_path),
        taxonomy_path=str(run.taxonomy_path),
        alerts_path=str(run.alerts_path),
        replay=str(run.replay),
    )


def write_corpus(root: Path, corpus: Corpus, builder: ModuleType) -> Path:
    """The corpus's replayed exchanges and configuration, in a directory of its own."""
    directory = root / corpus.name.replace(" ", "")
    directory.mkdir()
    sources = builder.build_corpus(directory / "http", corpus.articles, corpus.sources)
    write_sources(directory / "sources.toml", sources)
    (directory / "alerts.toml").write_text("", encoding="utf-8")
    return directory


def measure(directory: Path, kind: str, repeat: int) -> Cost:
    """The cheapest of ``repeat`` runs of one kind ("plain" or "flow"), each into a new
    database; a flow's cost includes the server's work until it is idle again."""
    costs: list[Cost] = []
    for attempt in range(repeat):
        settle()
        run = options(directory, f"{kind}-{attempt}.db")
        wall, cpu = time.perf_counter(), cpu_now()
        if kind == "plain":
            outcome = asyncio.run(run_once(run))
            status, new = outcome.status, len(outcome.new_article_ids)
        else:
            summary = asyncio.run(run_flow(run))
            status, new = summary["status"], summary["new_articles"]
        wall = time.perf_counter() - wall
        settle()
        costs.append(Cost(wall, cpu_now() - cpu, new))
        if status != "completed":
            raise SystemExit(f"{directory.name}: the {kind} run ended {status}")
    return min(costs, key=lambda cost: cost.cpu)


def print_fixed(costs: dict[str, Any], server: str) -> None:
    """The fixed costs, as a table."""
    print(f"fixed cost of a run on Prefect (fresh process; API: {server})")
    print(f"  {'':<48} {'wall':>8} {'CPU':>8}")
    rows = [
        ("import pipeline.ingest (no Prefect), s", "import_pipeline", 1),
        ("import prefect and flows.daily_ingest, s", "import_prefect", 1),
        ("first flow run (API server start or connect), s", "first_flow_run", 1),
        ("next empty flow run, s", "next_flow_run", 1),
        ("one async task run, a 200-item argument, ms", "task_run", 1000),
    ]
    for label, key, scale in rows:
        wall, cpu = costs[key]
        print(f"  {label:<48} {wall * scale:8.3f} {cpu * scale:8.3f}")
    print(f"  {'the API server, over the whole process, s':<48} {'':>8} {costs['server_cpu']:8.3f}")


def print_runs(timings: list[Timing]) -> None:
    """The corpora run both ways, and the costs per source and per batch they give."""
    print(f"\nthe same corpus, plain run vs daily-ingest flow (batches of {BATCH_SIZE})")
    print(
        f"  {'corpus':<18} {'articles':>8} {'batches':>7} {'tasks':>5} {'plain wall':>10}"
        f" {'flow wall':>9} {'plain CPU':>9} {'flow CPU':>8} {'overhead CPU s':>14}"
    )
    for t in timings:
        if t.plain.new != t.flow.new:
            raise SystemExit(f"{t.corpus.name}: the plain run and the flow stored other articles")
        tasks = 2 * t.corpus.sources + t.corpus.batches + 1
        print(
            f"  {t.corpus.name:<18} {t.flow.new:>8} {t.corpus.batches:>7} {tasks:>5}"
            f" {t.plain.wall:>10.2f} {t.flow.wall:>9.2f} {t.plain.cpu:>9.2f} {t.flow.cpu:>8.2f}"
            f" {t.overhead:>14.2f}"
        )
    few, many, small = timings
    per_source = (many.overhead - few.overhead) / (many.corpus.sources - few.corpus.sources)
    print(
        f"\n  per source (its discover and fetch tasks): {per_source * 1000:.0f} ms CPU"
        f"  ({many.corpus.sources} vs {few.corpus.sources} sources, same articles)"
    )
    print(
        f"  overhead added by {many.corpus.sources - few.corpus.sources} more sources:"
        f" {many.overhead - few.overhead:+.2f} s CPU; by"
        f" {few.corpus.articles - small.corpus.articles} more articles"
        f" ({few.corpus.batches - small.corpus.batches} more batches, a task each):"
        f" {few.overhead - small.overhead:+.2f} s CPU"
    )


def main() -> None:
    """Parse arguments, measure, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=2800)
    parser.add_argument("--sources", type=int, default=28)
    parser.add_argument("--many", type=int, default=280)
    parser.add_argument("--repeat", type=int, default=2, help="runs each way; the fastest")
    args = parser.parse_args()
    if not (SHARED / "seeds").is_dir():
        # A clone on its own has no seed articles; ``make bench`` goes on with the next script.
        print(f"skipped: {SHARED / 'seeds'} not found (the articles are built from them)")
        return
    with tempfile.TemporaryDirectory(prefix="newswatch-prefect-bench-") as tmp:
        root = Path(tmp)
        # A Prefect home of its own, so no profile of the user's changes what is measured;
        # PREFECT_API_URL in the environment still points the runs at a server.
        os.environ["PREFECT_HOME"] = str(root / "prefect-home")
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
        os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        # On a busy machine the temporary server takes longer than Prefect's 20 s to answer.
        os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
        server = os.environ.get("PREFECT_API_URL") or "temporary server"
        print_fixed(fixed_costs(dict(os.environ)), server)
        builder = bench_pipeline()
        # The first flow run in this process starts the API server: paid before timing.
        asyncio.run(run_flow(options(write_corpus(root, Corpus(2, 4), builder), "warm.db")))
        corpora = [
            Corpus(args.sources, args.articles),
            Corpus(args.many, args.articles),
            Corpus(args.sources, args.articles // 10),
        ]
        directories = [write_corpus(root, corpus, builder) for corpus in corpora]
        timings = [
            Timing(corpus, measure(path, "plain", args.repeat), measure(path, "flow", args.repeat))
            for corpus, path in zip(corpora, directories, strict=True)
        ]
        print_runs(timings)


if __name__ == "__main__":
    main()
