"""The Milvus side of an index: connection, collection names and schemas, and the manifest pointer.

One index is a set of collections named from ``WENYUAN_MILVUS_COLLECTION``
(default ``wenyuan``): ``<name>_meta`` holds the manifest, which names the
build whose collections are served (``<name>_<build>_chunks``, ``_sentences``,
``_documents``, ``_terms``). A full rebuild writes a new build's collections
and then switches the manifest row; embedded milvus-lite has no aliases
(``create_alias`` answers UNIMPLEMENTED), and a row every API server reads
works the same on a server or a cluster. pymilvus is imported only here and
only when the Milvus store is chosen.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import warnings
from dataclasses import asdict
from pathlib import Path
from typing import Any

from qa.errors import WenyuanError
from qa.index.manifest import Manifest
from qa.models import Chunk
from qa.settings import Settings

MAX_TEXT = 65_535
CONNECT_TIMEOUT_S = 10
SEARCH_BATCH = 1000
# What a writer reads back (and the manifest) must include every write before it: on a Milvus server the
# default (Bounded) may answer from a few seconds ago. Searches keep the default.
STRONG = "Strong"


class MilvusUnavailable(WenyuanError):
    code = "milvus_unavailable"


def uri_of(settings: Settings) -> str:
    return settings.milvus_uri or str(Path(settings.index_dir) / "milvus.db")


def connect(settings: Settings) -> Any:
    """A MilvusClient, or one clear error (pymilvus's own tracebacks are kept out of our output)."""
    try:
        with warnings.catch_warnings():  # milvus-lite 2.5 imports pkg_resources, which warns on import
            warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
            from pymilvus import MilvusClient

            if "://" not in uri_of(settings):
                importlib.import_module("milvus_lite")  # embedded Milvus: its own package
        _quiet_pymilvus()
    except ImportError:
        raise MilvusUnavailable(
            'the Milvus store needs the milvus extra: pip install -e ".[milvus]"'
        ) from None
    uri = uri_of(settings)
    if "://" not in uri:
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
    token = settings.milvus_token.get_secret_value() if settings.milvus_token else ""
    try:
        return MilvusClient(uri=uri, token=token, timeout=CONNECT_TIMEOUT_S)
    except Exception as exc:  # pymilvus raises several unrelated types for an unreachable server
        hint = ""
        if "://" not in uri and "Open local milvus failed" in str(exc):
            hint = (
                " (embedded milvus-lite lets one process use a file at a time: is a `qa serve` or `qa index` "
                "using it? To share one index between processes, run a Milvus server and pass its http:// URI)"
            )
        raise MilvusUnavailable(f"cannot reach Milvus at {uri}: {_reason(exc)}{hint}") from None


def _reason(exc: Exception) -> str:
    text = str(getattr(exc, "message", "") or exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def _quiet_pymilvus() -> None:
    """pymilvus logs every failed call with a traceback on its own handler; our errors say it in one line."""
    for name in (
        "pymilvus",
        "pymilvus.milvus_client",
        "pymilvus.bulk_writer",
    ):  # the loggers its dictConfig sets up
        logging.getLogger(name).setLevel(logging.CRITICAL)


def call(what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run one pymilvus call; a failure becomes one MilvusUnavailable line naming what was being done."""
    try:
        return fn(*args, **kwargs)
    except WenyuanError:
        raise
    except Exception as exc:
        raise MilvusUnavailable(f"Milvus failed while {what}: {_reason(exc)}") from None


def meta_name(settings: Settings) -> str:
    return f"{settings.milvus_collection}_meta"


def build_prefix(settings: Settings, build: str) -> str:
    return f"{settings.milvus_collection}_{build.replace('-', '_')}"


def quoted(value: str) -> str:
    """A string literal for a Milvus filter expression."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def read_manifest(client: Any, settings: Settings) -> Manifest | None:
    name = meta_name(settings)
    if not call("listing collections", client.has_collection, name):
        return None
    rows = call(
        "reading the manifest",
        client.get,
        name,
        ids=["manifest"],
        output_fields=["value"],
        consistency_level=STRONG,
    )
    if not rows:
        return None
    try:
        return Manifest(**json.loads(rows[0]["value"]))
    except (TypeError, ValueError):
        return None


def write_manifest(client: Any, settings: Settings, manifest: Manifest) -> None:
    """The switch: one row upsert, after everything it points at is written and flushed."""
    from pymilvus import DataType

    name = meta_name(settings)
    if not call("listing collections", client.has_collection, name):
        schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=64)
        schema.add_field("value", DataType.VARCHAR, max_length=MAX_TEXT)
        schema.add_field("pad", DataType.FLOAT_VECTOR, dim=2)
        index = client.prepare_index_params()
        index.add_index("pad", index_type="FLAT", metric_type="L2")
        call(
            "creating the meta collection", client.create_collection, name, schema=schema, index_params=index
        )
    row = {"key": "manifest", "value": json.dumps(asdict(manifest), ensure_ascii=False), "pad": [0.0, 0.0]}
    call("switching the manifest", client.upsert, name, [row])
    call("flushing the manifest", client.flush, name)


def create_build(client: Any, settings: Settings, build: str, dimension: int) -> str:
    """Empty collections for a build; returns their name prefix."""
    from pymilvus import DataType, Function, FunctionType

    prefix = build_prefix(settings, build)
    chunks = client.create_schema(auto_id=False, enable_dynamic_field=False)
    chunks.add_field("id", DataType.INT64, is_primary=True)
    for field in ("doc", "title", "text"):
        chunks.add_field(field, DataType.VARCHAR, max_length=MAX_TEXT)
    for field in ("article", "paragraph", "start", "end", "line_start", "line_end"):
        chunks.add_field(field, DataType.INT64)
    chunks.add_field("passage_key", DataType.VARCHAR, max_length=64)
    chunks.add_field(
        "origin", DataType.VARCHAR, max_length=MAX_TEXT
    )  # where it is in a PDF/Word/HTML/Markdown file
    chunks.add_field("doc_key", DataType.INT64)  # place scoping filters on it: 2x faster than on the doc name
    # Our jieba tokens joined by spaces: BM25 sees exactly the words the local index counts.
    chunks.add_field(
        "tokens",
        DataType.VARCHAR,
        max_length=MAX_TEXT,
        enable_analyzer=True,
        analyzer_params={"tokenizer": "whitespace"},
    )
    chunks.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    chunks.add_field("dense", DataType.FLOAT_VECTOR, dim=dimension)
    chunks.add_function(
        Function(
            name="bm25",
            function_type=FunctionType.BM25,
            input_field_names=["tokens"],
            output_field_names=["sparse"],
        )
    )
    index = client.prepare_index_params()
    index.add_index("dense", index_type="FLAT", metric_type="IP")
    index.add_index(
        "sparse",
        index_type="SPARSE_INVERTED_INDEX",
        metric_type="BM25",
        params={"bm25_k1": 1.5, "bm25_b": 0.75},
    )
    index.add_index(
        "doc", index_type="INVERTED"
    )  # scalar indexes serve the filters (milvus-lite scans regardless)
    index.add_index("doc_key", index_type="INVERTED")
    call(
        "creating the chunks collection",
        client.create_collection,
        f"{prefix}_chunks",
        schema=chunks,
        index_params=index,
    )

    sentences = client.create_schema(auto_id=False, enable_dynamic_field=False)
    sentences.add_field("id", DataType.INT64, is_primary=True)
    sentences.add_field("chunk", DataType.INT64)
    sentences.add_field("start", DataType.INT64)
    sentences.add_field("end", DataType.INT64)
    sentences.add_field("key", DataType.VARCHAR, max_length=64)
    sentences.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
    index = client.prepare_index_params()
    index.add_index("vector", index_type="FLAT", metric_type="IP")
    index.add_index("chunk", index_type="INVERTED")
    call(
        "creating the sentences collection",
        client.create_collection,
        f"{prefix}_sentences",
        schema=sentences,
        index_params=index,
    )

    for suffix, key_field, value_fields in (
        ("documents", "name", ("info",)),
        ("terms", "term", ("df", "pinyin")),
    ):
        schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field(
            key_field,
            DataType.VARCHAR,
            is_primary=True,
            max_length=MAX_TEXT if suffix == "documents" else 1024,
        )
        for field in value_fields:
            if field == "df":
                schema.add_field(field, DataType.INT64)
            else:
                schema.add_field(field, DataType.VARCHAR, max_length=MAX_TEXT)
        schema.add_field("pad", DataType.FLOAT_VECTOR, dim=2)
        index = client.prepare_index_params()
        index.add_index("pad", index_type="FLAT", metric_type="L2")
        if suffix == "terms":
            index.add_index("pinyin", index_type="INVERTED")
        call(
            f"creating the {suffix} collection",
            client.create_collection,
            f"{prefix}_{suffix}",
            schema=schema,
            index_params=index,
        )
    return prefix


BUILD_PARTS = ("chunks", "sentences", "documents", "terms")


def doc_key(name: str) -> int:
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "big") >> 1


def current_schema(client: Any, prefix: str) -> bool:
    """Whether a build's collections have every field this version reads (older builds lack ``doc_key`` or ``origin``)."""
    fields = call("reading the schema", client.describe_collection, f"{prefix}_chunks").get("fields", [])
    return {"doc_key", "origin"} <= {f.get("name") for f in fields}


def origin_text(chunk: Chunk) -> str:
    """A chunk's place in the original as the row keeps it: the local store's JSON (lines for answer boxes included),
    compact; "" for ``.txt``."""
    return "" if chunk.origin is None else json.dumps(chunk.origin, ensure_ascii=False, separators=(",", ":"))


def origin_of(text: str) -> dict[str, Any] | None:
    return json.loads(text) if text else None


def drop_build(client: Any, prefix: str) -> None:
    for part in BUILD_PARTS:
        name = f"{prefix}_{part}"
        if call("listing collections", client.has_collection, name):
            call(f"dropping {name}", client.drop_collection, name)


def stale_builds(client: Any, settings: Settings, keep: set[str]) -> set[str]:
    """Prefixes of build collections the manifest no longer needs (a killed build's, or older ones)."""
    meta = meta_name(settings)
    head = f"{settings.milvus_collection}_"
    found = set()
    for name in call("listing collections", client.list_collections):
        if name != meta and name.startswith(head) and name.endswith(tuple(f"_{p}" for p in BUILD_PARTS)):
            found.add(name.rsplit("_", 1)[0])
    return found - keep


def query_all(
    client: Any, name: str, filter: str, fields: list[str], batch: int = SEARCH_BATCH, strong: bool = False
) -> list[dict[str, Any]]:
    """Every row matching ``filter`` (paged, since a query answers at most 16 384 rows)."""
    rows: list[dict[str, Any]] = []
    level = {"consistency_level": STRONG} if strong else {}
    iterator = call(
        f"reading {name}",
        client.query_iterator,
        name,
        filter=filter,
        output_fields=fields,
        batch_size=batch,
        **level,
    )
    try:
        while True:
            page = call(f"reading {name}", iterator.next)
            if not page:
                return rows
            rows.extend(page)
    finally:
        iterator.close()


def embedded_path(settings: Settings) -> str | None:
    """The file an embedded milvus-lite serves this index from (None for a Milvus server)."""
    uri = uri_of(settings)
    return None if "://" in uri else str(Path(uri).resolve())


def release(client: Any, settings: Settings) -> None:
    """Drop every collection of this index and stop its embedded Milvus process (benchmarks clean up so)."""
    for prefix in stale_builds(client, settings, set()):
        drop_build(client, prefix)
    if call("listing collections", client.has_collection, meta_name(settings)):
        client.drop_collection(meta_name(settings))
    client.close()
    path = embedded_path(settings)
    if path is not None:
        from milvus_lite.server_manager import server_manager_instance

        server_manager_instance.release_server(path)
