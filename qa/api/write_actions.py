"""What a queued write does on the writer thread, and how its failures become HTTP answers.

Shared by uploads and deletes (qa.api.document_routes) and by the server's own
catch-up build at start (qa.api.corpus_sync): each works on the newest served
build and serves what it committed before it counts as done.
"""

from __future__ import annotations

from collections.abc import Callable

from qa.api.error_status import http_error
from qa.api.live_engine import LiveEngine
from qa.api.write_jobs import Job, Outcome
from qa.engine import Wenyuan
from qa.errors import ApiError, CorpusError, DocumentWriteError, WenyuanError
from qa.index.document_writes import DocumentWriter, WriteResult
from qa.index.writer_lock import IndexBusyError
from qa.settings import Settings

RETRY_AFTER_S = 5  # another process (`qa index`) holds the folder: its progress is unknown here


def written(result: WriteResult) -> Outcome:
    return Outcome(201 if result.created else 200, result.to_json())


def writer_action(
    settings: Settings, live: LiveEngine, write: Callable[[DocumentWriter, Wenyuan], Outcome]
) -> Callable[[Job], Outcome]:
    """A job's work on the writer thread: the newest served build, the write, then serve what it committed."""

    def run(job: Job) -> Outcome:
        try:
            live.refresh()
            engine = live.get()
            job.retries = engine.embedding_retries
            writer = engine.document_writer(job.progress)
            outcome = write(writer, engine)
            live.refresh()
            return outcome
        except IndexBusyError as exc:
            raise ApiError(503, exc.code, str(exc), {"Retry-After": str(RETRY_AFTER_S)}) from None
        except CorpusError as exc:
            raise ApiError(409, exc.code, str(exc)) from None
        except DocumentWriteError as exc:
            answer = http_error(exc)
            raise ApiError(answer.status, answer.code, answer.message) from None
        except ApiError:
            raise
        except WenyuanError as exc:
            raise ApiError(500, "index_failed", f"indexing failed and nothing was changed: {exc}") from None

    return run
