"""Corpus loading: decoding decisions, exact offsets, sidecar metadata, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.corpus import decode, fingerprint, load_corpus
from qa.errors import CorpusError

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
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
    (tmp_path / "notes.md").write_text("不读这个。", encoding="utf-8")
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
