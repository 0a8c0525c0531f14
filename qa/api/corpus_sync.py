"""The corpus folder as the source of truth, also across crashes.

A server killed mid-upload leaves the file complete in the corpus folder
(written before indexing) and the previous build committed. On start the
server compares the folder with the build it is about to serve; when they
differ it logs one line and queues a catch-up build on the writer thread,
serving the previous build meanwhile. ``/api/health`` reports the state:
``in_sync``, ``updating`` (the catch-up is queued or running) or
``out_of_sync`` (it failed, or the folder cannot be read; the log says why).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from qa.api.live_engine import LiveEngine
from qa.api.write_actions import writer_action
from qa.api.write_jobs import Job, Outcome
from qa.api.write_queue import WriteQueue
from qa.engine import Wenyuan
from qa.errors import WenyuanError
from qa.index.pipeline import Changes, changes
from qa.index.search_index import SearchIndex
from qa.ingest.corpus import corpus_limits, document_hash, fingerprint, load_corpus
from qa.settings import Settings

log = logging.getLogger("wenyuan.corpus")


def differences(index: SearchIndex, settings: Settings) -> Changes:
    """Documents of the corpus folder the served build lacks, holds in another version, or holds no longer."""
    loaded = load_corpus(Path(index.manifest.corpus_dir), corpus_limits(settings))
    if fingerprint(loaded.documents) == index.manifest.fingerprint:
        return Changes([], [], [], len(loaded.documents))
    hashes = {d.name: document_hash(d) for d in loaded.documents}
    before = {name: str(info.get("sha256", "")) for name, info in index.documents.items()}
    return changes(loaded.documents, hashes, before)


class CorpusSync:
    """The corpus state ``/api/health`` reports, and the catch-up build when the folder is ahead."""

    def __init__(self, settings: Settings, live: LiveEngine, queue: WriteQueue) -> None:
        self.settings, self.live, self.queue = settings, live, queue
        self.state, self.pending = "in_sync", 0

    def to_json(self) -> dict[str, Any]:
        return {"state": self.state, "pending": self.pending}

    def check(self, engine: Wenyuan) -> None:
        """Called with the first build the server loads, before it is served, so health never says in_sync wrongly."""
        index = engine.index
        try:
            found = differences(index, self.settings)
        except (OSError, WenyuanError) as exc:
            self.state = "out_of_sync"
            log.warning(
                "cannot compare the corpus folder %s with build %s: %s",
                index.manifest.corpus_dir,
                index.manifest.build,
                exc,
            )
            return
        pending = len(found.added) + len(found.changed) + len(found.removed)
        if not pending:
            return
        self.state, self.pending = "updating", pending
        log.warning(
            "the corpus folder %s differs from the served build %s (%d added, %d changed, %d removed); "
            "indexing them in the background, serving %s meanwhile",
            index.manifest.corpus_dir,
            index.manifest.build,
            len(found.added),
            len(found.changed),
            len(found.removed),
            index.manifest.build,
        )
        run = writer_action(self.settings, self.live, lambda writer, _: Outcome(200, writer.sync().to_json()))

        def catch_up(job: Job) -> Outcome:
            try:
                outcome = run(job)
            except BaseException as exc:
                self.state = "out_of_sync"
                log.warning(
                    "the corpus folder could not be indexed, still serving the previous build: %s", exc
                )
                raise
            self.state, self.pending = "in_sync", 0
            log.info("the corpus folder is indexed: now serving build %s", outcome.body.get("build"))
            return outcome

        self.queue.submit(Job("sync", "", 0, catch_up), always=True)
