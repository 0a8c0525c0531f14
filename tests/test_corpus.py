"""Corpus loading: decoding decisions, exact offsets, sidecar metadata, errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from qa.errors import CorpusError
from qa.ingest.corpus import CorpusLimits, decode, fingerprint, load_corpus

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
CHINESE = "庆元县申领健康码共89423人,申领率64.24%,排名全市第一。\n\n第二段。\n"


def test_seeds_load_with_metadata() -> None:
    load = load_corpus(SEEDS)
    names = [d.name for d in load.documents]
    assert names == sorted(p.name for p in SEEDS.glob("*.txt"))
    assert load.skipped == []
    assert all(d.encoding == "utf-8" for d in load.documents)
    by_name = {d.name: d for d in load.documents}
    gazette = by_name["003_54b69cf64c17b6a2.txt"]
    assert gazette.metadata["publication"] == "丽水市人民政府公报"
    assert gazette.metadata["date"].startswith("2020")
    assert by_name["004_dc05beaeab141324.txt"].metadata["date"].startswith("2022")
    assert gazette.text == (SEEDS / gazette.name).read_bytes().decode("utf-8")


def test_every_seed_has_a_year(tmp_path: Path) -> None:
    meta = json.loads((SEEDS / "metadata.json").read_text(encoding="utf-8"))
    for doc in load_corpus(SEEDS).documents:
        assert meta[doc.name]["date"][:4].isdigit(), doc.name
        assert "url" not in meta[doc.name], "no URL is printed on any seed page"


def test_gb18030_chinese_is_read(tmp_path: Path) -> None:
    (tmp_path / "gb.txt").write_bytes(CHINESE.encode("gb18030"))
    doc = load_corpus(tmp_path).documents[0]
    assert doc.encoding == "gb18030"
    assert doc.text == CHINESE


def test_garbage_is_skipped_with_reason(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("正文内容。", encoding="utf-8")
    (tmp_path / "b.txt").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "c.txt").write_bytes(b"  \n\t\n")
    load = load_corpus(tmp_path)
    assert [d.name for d in load.documents] == ["a.txt"]
    reasons = dict(load.skipped)
    assert set(reasons) == {"b.txt", "c.txt"}
    assert "GB18030" in reasons["b.txt"] or "binary" in reasons["b.txt"]
    assert "empty" in reasons["c.txt"]


def test_latin1_text_is_not_mistaken_for_gb18030() -> None:
    raw = "Crème brûlée, Mère Noël, père Émile".encode("latin-1")
    raw.decode("gb18030")  # it does "decode", which is exactly the trap
    with pytest.raises(ValueError, match="not Chinese"):
        decode(raw)


def test_bom_removed_and_crlf_offsets_exact(tmp_path: Path) -> None:
    body = "标题\r\n\r\n第一段内容。\r\n"
    (tmp_path / "bom.txt").write_bytes(b"\xef\xbb\xbf" + body.encode("utf-8"))
    doc = load_corpus(tmp_path).documents[0]
    assert doc.text == body
    assert doc.text.index("第一段") == 6


def test_recursive_names_are_posix_relative(tmp_path: Path) -> None:
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / "sub" / "deeper" / "x.txt").write_text("内容一。", encoding="utf-8")
    (tmp_path / "a.txt").write_text("内容二。", encoding="utf-8")
    (tmp_path / "notes.csv").write_text(
        "不读这个。", encoding="utf-8"
    )  # .md, .pdf, .docx, .html are read too
    names = [d.name for d in load_corpus(tmp_path).documents]
    assert names == ["a.txt", "sub/deeper/x.txt"]


def test_missing_and_empty_folders_raise(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="does not exist"):
        load_corpus(tmp_path / "nope")
    with pytest.raises(CorpusError, match="No .txt"):
        load_corpus(tmp_path)
    (tmp_path / "f.txt").write_text("内容。", encoding="utf-8")
    with pytest.raises(CorpusError, match="not a folder"):
        load_corpus(tmp_path / "f.txt")


def test_all_skipped_lists_reasons(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    with pytest.raises(CorpusError, match="empty.txt: file is empty"):
        load_corpus(tmp_path)


def test_sidecar_attached_and_extra_entries_ignored(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("内容。", encoding="utf-8")
    meta = {"a.txt": {"publication": "某日报", "date": "2020-03"}, "gone.txt": {"date": "1999"}}
    (tmp_path / "metadata.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    doc = load_corpus(tmp_path).documents[0]
    assert doc.metadata == {"publication": "某日报", "date": "2020-03"}


@pytest.mark.parametrize(
    "payload, needle",
    [
        ('{"a.txt": {"date": 2020}}', '"date"'),
        ('{"a.txt": "2020"}', '"a.txt"'),
        ("[1, 2]", "JSON object"),
        ("{not json", "valid UTF-8 JSON"),
    ],
)
def test_malformed_sidecar_raises(tmp_path: Path, payload: str, needle: str) -> None:
    (tmp_path / "a.txt").write_text("内容。", encoding="utf-8")
    (tmp_path / "metadata.json").write_text(payload, encoding="utf-8")
    with pytest.raises(CorpusError, match="metadata.json") as err:
        load_corpus(tmp_path)
    assert needle in str(err.value)


def test_fingerprint_tracks_text_names_and_metadata() -> None:
    docs = load_corpus(SEEDS).documents
    base = fingerprint(docs)
    assert base == fingerprint(list(reversed(docs)))
    first = docs[0]
    edited = type(first)(first.name, first.text + "。", first.encoding, first.metadata)
    renamed = type(first)("x" + first.name, first.text, first.encoding, first.metadata)
    retagged = type(first)(first.name, first.text, first.encoding, {**first.metadata, "date": "1999"})
    for changed in (edited, renamed, retagged):
        assert fingerprint([changed, *docs[1:]]) != base


# Safe reading: what is never opened, never indexed, or refused.


def _chinese(path: Path, text: str = CHINESE) -> None:
    path.write_text(text, encoding="utf-8")


def test_links_out_of_the_folder_are_skipped_and_links_inside_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    _chinese(outside / "secret.txt", "机密文件内容，不应被索引。")
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    _chinese(corpus / "a.txt")
    _chinese(corpus / "sub" / "b.txt")
    (corpus / "link.txt").symlink_to(outside / "secret.txt")
    (corpus / "linkdir").symlink_to(outside)
    (corpus / "alias.txt").symlink_to(corpus / "sub" / "b.txt")
    load = load_corpus(corpus)
    assert [d.name for d in load.documents] == ["a.txt", "alias.txt", "sub/b.txt"]
    assert all("机密" not in d.text for d in load.documents)
    reasons = dict(load.skipped)
    assert set(reasons) == {"link.txt", "linkdir"}
    assert all("outside the corpus" in r for r in reasons.values())


def test_fifos_sockets_and_devices_are_skipped_unopened(tmp_path: Path) -> None:
    import socket

    _chinese(tmp_path / "a.txt")
    os.mkfifo(tmp_path / "pipe.txt")
    (tmp_path / "inner").mkdir()
    os.mkfifo(tmp_path / "inner" / "fifo")
    (tmp_path / "pipe-link.txt").symlink_to(tmp_path / "inner" / "fifo")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "sock.txt"))
    (tmp_path / "zero.txt").symlink_to("/dev/zero")
    try:
        load = load_corpus(tmp_path)
    finally:
        sock.close()
    assert [d.name for d in load.documents] == ["a.txt"]
    reasons = dict(load.skipped)
    assert "FIFO" in reasons["pipe.txt"] and "FIFO" in reasons["pipe-link.txt"]
    assert "socket" in reasons["sock.txt"]
    assert "outside the corpus" in reasons["zero.txt"]


def test_undecodable_and_unservable_names_are_skipped(tmp_path: Path) -> None:
    _chinese(tmp_path / "a.txt")
    for raw in (b"caf\xff.txt", b"back\\slash.txt", b"new\nline.txt", b"bell\x07.txt"):
        fd = os.open(os.path.join(os.fsencode(tmp_path), raw), os.O_WRONLY | os.O_CREAT, 0o644)
        os.write(fd, CHINESE.encode("utf-8"))
        os.close(fd)
    os.mkdir(os.path.join(os.fsencode(tmp_path), b"dir\xfe"))
    load = load_corpus(tmp_path)
    assert [d.name for d in load.documents] == ["a.txt"]
    reasons = dict(load.skipped)
    assert "not valid UTF-8" in reasons["caf\\xff.txt"] and "not valid UTF-8" in reasons["dir\\xfe"]
    assert "backslash" in reasons["back\\slash.txt"]
    assert (
        "control character" in reasons["new\\nline.txt"] and "control character" in reasons["bell\\x07.txt"]
    )
    assert all(n.isprintable() for n in reasons), "names in warnings stay on one printable line"


def test_files_over_the_size_cap_are_skipped_before_reading(tmp_path: Path) -> None:
    _chinese(tmp_path / "a.txt")
    _chinese(tmp_path / "big.txt", CHINESE * 10)
    limits = CorpusLimits(
        file_bytes=len(CHINESE.encode("utf-8")) + 10, sidecar_bytes=10_000, metadata_chars=100
    )
    load = load_corpus(tmp_path, limits)
    assert [d.name for d in load.documents] == ["a.txt"]
    assert "cap (WENYUAN_CORPUS_FILE_MAX_BYTES)" in dict(load.skipped)["big.txt"]


def test_over_long_metadata_value_is_refused_quickly(tmp_path: Path) -> None:
    _chinese(tmp_path / "a.txt")
    meta = {"a.txt": {"publication": "某日报" * 2_000_000}}
    (tmp_path / "metadata.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    limits = CorpusLimits(file_bytes=20_000_000, sidecar_bytes=100_000_000, metadata_chars=500)
    with pytest.raises(CorpusError, match='"publication" is 6000000 characters, more than the 500 allowed'):
        load_corpus(tmp_path, limits)


def test_metadata_file_over_its_cap_or_not_a_file_is_refused(tmp_path: Path) -> None:
    _chinese(tmp_path / "a.txt")
    meta = {"a.txt": {"date": "2020"}, **{f"x{i}.txt": {"date": "2020"} for i in range(100_000)}}
    (tmp_path / "metadata.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(CorpusError, match="WENYUAN_METADATA_FILE_MAX_BYTES"):
        load_corpus(tmp_path)
    (tmp_path / "metadata.json").unlink()
    os.mkfifo(tmp_path / "metadata.json")
    with pytest.raises(CorpusError, match="is a FIFO"):
        load_corpus(tmp_path)


def test_qa_index_warns_about_each_skipped_file_and_still_builds(tmp_path: Path) -> None:
    """The real CLI: one warning line each, no traceback (an undecodable name used to abort with one)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEEDS / "003_54b69cf64c17b6a2.txt", corpus / "good.txt")
    _chinese(corpus / "heading.txt", "标题")
    _chinese(corpus / "big.txt", CHINESE * 100)
    fd = os.open(os.path.join(os.fsencode(corpus), b"caf\xff.txt"), os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, CHINESE.encode("utf-8"))
    os.close(fd)
    _chinese(corpus / "new\nline.txt")
    os.mkfifo(corpus / "pipe.txt")
    (corpus / "out.txt").symlink_to(SEEDS / "000_03be0d9acd7aceea.txt")
    index_dir = tmp_path / "idx"
    env = {**os.environ, "WENYUAN_CORPUS_FILE_MAX_BYTES": "8000"}
    qa = str(ROOT / ".venv" / "bin" / "qa")
    out = subprocess.run(
        [qa, "index", str(corpus), "--index-dir", str(index_dir), "--quiet"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    warnings = [line for line in out.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 6, out.stderr
    for needle in (
        "big.txt: 0.0",
        "caf\\xff.txt",
        "new\\nline.txt",
        "pipe.txt",
        "out.txt",
        "heading.txt: no indexable text",
    ):
        assert any(needle in w for w in warnings), (needle, warnings)
    listed = subprocess.run(
        [qa, "search", "庆元县健康码", "--json", "--index-dir", str(index_dir)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert listed.returncode == 0, listed.stderr
    assert {h["citation"]["doc"] for h in json.loads(listed.stdout)["hits"]} == {"good.txt"}


def test_every_indexed_name_round_trips_through_the_documents_api(tmp_path: Path, embedder) -> None:
    """Odd but servable names are served back; names the API cannot serve were refused at index time."""
    from urllib.parse import quote

    import httpx

    from qa.index.local.writer import build_index
    from qa.settings import Settings
    from tests.conftest import live_server

    corpus = tmp_path / "corpus"
    (corpus / "第 1 版").mkdir(parents=True)
    body = (SEEDS / "003_54b69cf64c17b6a2.txt").read_text(encoding="utf-8")
    names = [
        "第 1 版/a#?%&+=.txt",
        "%2F;'\".txt",
        "ünï (2).txt",
        "back\\slash.txt",
        "new\nline.txt",
        "tab\there.txt",
    ]
    for name in names:
        (corpus / name).write_text(body, encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "idx")
    report = build_index(corpus, settings, embedder, progress=False, warn=lambda _: None)
    assert {n for n, _ in report.skipped} == {"back\\slash.txt", "new\\nline.txt", "tab\\there.txt"}

    with live_server(settings) as url:
        listed = [d["doc"] for d in httpx.get(f"{url}/api/documents", timeout=30).json()["documents"]]
        assert sorted(listed) == sorted(names[:3])
        for name in listed:
            answer = httpx.get(f"{url}/api/documents/{quote(name, safe=chr(39) + '-_.!~*()')}", timeout=30)
            assert answer.status_code == 200, (name, answer.text)
            assert answer.json()["doc"] == name
