"""The engine a server answers with, swapped for a new one whenever a build is committed.

A request takes the engine once and uses only it, so it never mixes two builds;
the swap is one reference assignment, so no request waits for it or fails
because of it. The new build is loaded beside the old one (which the store
keeps on disk one generation longer), and the model is loaded once and reused
by every build made with it. A build that cannot be loaded leaves the old one
served and is retried at the next look.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from qa.engine import Wenyuan
from qa.errors import ApiError, WenyuanError
from qa.index.factory import BuildWatch, build_running, served_build
from qa.settings import Settings

log = logging.getLogger("wenyuan.live")


class LiveEngine:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine: Wenyuan | None = None
        self.failure: str | None = None
        self._swap = threading.Lock()
        self._stop = threading.Event()
        self._watch = BuildWatch(settings)
        self._thread = threading.Thread(target=self._run, name="wenyuan-live", daemon=True)
        # Sees the first build loaded before it is served (qa.api.corpus_sync compares it with the folder).
        self.on_first_load: Callable[[Wenyuan], None] | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def get(self) -> Wenyuan:
        engine = self.engine
        if engine is None:
            # Only when nothing could be loaded: a server starting beside a rebuild is loading the previous build.
            running = build_running(self.settings) if self.failure else None
            if running is not None:
                message = (
                    f"the index in {self.settings.index_dir} is being built by `qa index`{running}; "
                    "it is served as soon as it is committed: try again then"
                )
                raise ApiError(503, "index_building", message)
            raise ApiError(
                503, "not_ready", self.failure or "the index is still loading; try again in a moment"
            )
        return engine

    def _run(self) -> None:
        self.refresh()
        interval = self.settings.reload_interval_s
        while interval > 0 and not self._stop.wait(interval):
            engine = self.engine
            if self._watch.moved(engine.index if engine else None):
                self.refresh()

    def refresh(self) -> bool:
        """Serve the committed build if it is not the one served already; True when it swapped."""
        with self._swap:
            self._watch.mark()
            current = self.engine
            try:
                build = current.index.latest_build() if current else served_build(self.settings)
            except WenyuanError as exc:
                self._failed(str(exc), current)
                return False
            if current is not None and build == current.build:
                return False
            try:
                engine = self._open(current)
                engine.answer_model()  # the first build's decline threshold before it is served (later ones: carried over)
            except WenyuanError as exc:
                self._failed(str(exc), current)
                return False
            except Exception as exc:  # reported through /api/health instead of killing the server
                self._failed(f"{type(exc).__name__}: {exc}", current)
                return False
            if current is None and self.on_first_load is not None:
                try:
                    self.on_first_load(engine)
                except Exception:  # a check that fails must not keep the index from being served
                    log.exception("the start-up check of the first build failed")
            self.engine, self.failure = engine, None
            if current is not None:
                log.info("now serving build %s", engine.build)
            return True

    def _failed(self, message: str, current: Wenyuan | None) -> None:
        if current is None:
            self.failure = message
        else:
            log.warning(
                "still serving build %s: the new build could not be loaded: %s",
                current.build,
                message,
            )

    def _open(self, current: Wenyuan | None) -> Wenyuan:
        return Wenyuan.open(**self.settings.model_dump()) if current is None else current.reopen()
