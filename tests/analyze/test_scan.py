"""Tests for logtool.analyze.scan: byte search over plain and gzipped files."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import pytest

from logtool.analyze import scan


@dataclass(frozen=True)
class F:
    """A scannable file description, as tree.TreeFile provides it."""

    path: Path
    compressed: bool
    size: int


def f(path: Path) -> F:
    """Describe an existing file for find_lines."""
    return F(path, path.name.endswith(".gz"), path.stat().st_size)


def test_json_needles_cover_both_json_spellings_of_non_ascii() -> None:
    """A non-ASCII id is searched both as raw UTF-8 and as \\u escapes; ASCII ids once, quoted."""
    assert scan.json_needles("trade_1") == [b'"trade_1"']
    assert scan.json_needles("trädé") == ['"trädé"'.encode(), b'"tr\\u00e4d\\u00e9"']


def test_one_hit_per_line_with_offsets_and_partial_tail(tmp_path: Path) -> None:
    """A line holding the needle twice is one hit; a last line without newline is partial."""
    p = tmp_path / "a.log"
    p.write_bytes(b'{"x": "ab", "y": "ab"}\n{"x": "cd"}\n{"x": "ab"')
    hits = scan.find_lines([f(p)], [b'"ab"'], workers=1).hits
    assert [(h.offset, h.line, h.partial) for h in hits] == [
        (0, b'{"x": "ab", "y": "ab"}', False),
        (35, b'{"x": "ab"', True),
    ]
    assert scan.line_number(p, False, 35) == 3


def test_empty_file_and_several_needles(tmp_path: Path) -> None:
    """Empty files give nothing; lines matching any of several needles are each found once."""
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    p = tmp_path / "b.log"
    p.write_bytes(b"one X\ntwo Y\nthree XY\n")
    hits = scan.find_lines([f(empty), f(p)], [b"X", b"Y"], workers=1).hits
    assert [(h.file_index, h.line) for h in hits] == [
        (1, b"one X"),
        (1, b"two Y"),
        (1, b"three XY"),
    ]


def test_multi_member_gzip_offsets_are_in_decompressed_bytes(tmp_path: Path) -> None:
    """Concatenated gzip members read as one stream; offsets count decompressed bytes."""
    p = tmp_path / "c.log.gz"
    p.write_bytes(gzip.compress(b"aaa\nneedle 1\n") + gzip.compress(b"bbb\nneedle 2\n"))
    result = scan.find_lines([f(p)], [b"needle"], workers=1)
    assert [(h.offset, h.line) for h in result.hits] == [(4, b"needle 1"), (17, b"needle 2")]
    assert result.unreadable == {}
    assert scan.line_number(p, True, 17) == 4


def test_truncated_gzip_reports_the_file_and_keeps_earlier_hits(tmp_path: Path) -> None:
    """A gzip cut short keeps the hits that decompressed and names the problem."""
    p = tmp_path / "d.log.gz"
    body = b"needle first\n" + b"".join(
        b"filler %d %s\n" % (i, b"z" * (i % 97)) for i in range(20000)
    )
    blob = gzip.compress(body)
    p.write_bytes(blob[: len(blob) // 2])
    result = scan.find_lines([f(p)], [b"needle"], workers=1)
    assert [h.line for h in result.hits] == [b"needle first"]
    assert "truncated" in result.unreadable[0]


def test_max_hits_per_file_stops_early(tmp_path: Path) -> None:
    """A broad needle stops after the given number of lines in each file."""
    p = tmp_path / "e.log"
    p.write_bytes(b"k\n" * 100)
    assert len(scan.find_lines([f(p)], [b"k"], workers=1, max_hits_per_file=7).hits) == 7


def test_forked_workers_match_a_single_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Splitting files across forked children returns the same hits in the same order."""
    files = []
    for i in range(5):
        p = tmp_path / f"w{i}.log"
        p.write_bytes(
            b"".join(b"line %d %s\n" % (n, b"HIT" if n % 7 == i else b"-") for n in range(500))
        )
        files.append(f(p))
    gz = tmp_path / "w5.log.gz"
    gz.write_bytes(gzip.compress(b"x\nHIT in gz\n"))
    files.append(f(gz))
    monkeypatch.setattr(scan, "PARALLEL_MIN_BYTES", 0)
    single = scan.find_lines(files, [b"HIT"], workers=1).hits
    forked = scan.find_lines(files, [b"HIT"], workers=3).hits
    assert forked == single
    assert len(single) == sum(1 for n in range(500) for i in range(5) if n % 7 == i) + 1


def test_unreadable_file_is_reported_not_raised(tmp_path: Path) -> None:
    """A file that vanished between discovery and search is named, not fatal."""
    gone = F(tmp_path / "gone.log", False, 10)
    result = scan.find_lines([gone], [b"x"], workers=1)
    assert result.hits == [] and "cannot read" in result.unreadable[0]


def test_empty_needle_is_refused() -> None:
    """An empty needle would match everything; it is a programming error."""
    with pytest.raises(ValueError):
        scan.find_lines([], [b""])
