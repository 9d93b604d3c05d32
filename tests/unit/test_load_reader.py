"""The JSONL reader of `load` finds lines with array operations over blocks of bytes; it must give exactly the
lines (and line numbers) Python's own line iteration gives, and cut them into chunks as full as the bounds allow."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.files import _chunks, _jsonl_blocks


def python_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """The oracle: every non-blank line, numbered from 1, without its "\\n" and any "\\r" before it."""
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            line = line.rstrip(b"\r\n")
            if line.strip():
                yield number, line


def greedy_chunk_sizes(lines: list[tuple[int, bytes]], chunk_rows: int | None, chunk_bytes: int) -> list[int]:
    sizes: list[int] = []
    rows = size = 0
    for _, raw in lines:
        if rows and ((chunk_rows is not None and rows >= chunk_rows) or size + len(raw) > chunk_bytes):
            sizes.append(rows)
            rows = size = 0
        rows += 1
        size += len(raw)
    return sizes + ([rows] if rows else [])


def read(path: Path, read_bytes: int) -> list[tuple[int, bytes]]:
    return [(int(n), raw) for numbers, values in _jsonl_blocks(path, read_bytes)
            for n, raw in zip(numbers, values.to_pylist(), strict=True)]


def test_blank_lines_line_ends_and_a_missing_last_newline(tmp_path: Path) -> None:
    path = tmp_path / "visits.jsonl"
    path.write_bytes(b'{"a":1}\r\n\n   \r\n{"b":2}\r\r\n\t\x0b\x0c\n \xff \n\xfe\n{"c":3}')
    assert read(path, 1 << 20) == [(1, b'{"a":1}'), (4, b'{"b":2}'), (6, b" \xff "), (7, b"\xfe"), (8, b'{"c":3}')]
    assert read(path, 1 << 20) == list(python_lines(path))


def test_a_byte_order_mark_at_the_start_of_the_file_is_not_part_of_the_first_line(tmp_path: Path) -> None:
    path = tmp_path / "visits.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"a":1}\r\n{"b":"\xef\xbb\xbf"}\r\n')
    for read_bytes in (1, 2, 5, 1 << 20):
        assert read(path, read_bytes) == [(1, b'{"a":1}'), (2, b'{"b":"\xef\xbb\xbf"}')]
    path.write_bytes(b"\xef\xbb\xbf")
    assert read(path, 1) == []
    path.write_bytes(b"\xef\xbb")  # not a mark: kept as the file's one line
    assert read(path, 1) == [(1, b"\xef\xbb")]


@pytest.mark.parametrize("seed", range(6))
def test_random_files_read_as_python_reads_them_in_any_block_size(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    pieces = [b"{}", b'{"a":1}', b"", b"  ", b"\t", b"\r", b"x\r", b"x\r\r", b" y ", b"\xff\xfe", b"\x0b",
              "é".encode(), b"z" * 300]
    path = tmp_path / "tickets.jsonl"
    for _ in range(40):
        path.write_bytes(b"".join(rng.choice(pieces) + rng.choice([b"\n", b"\r\n", b"\n\n", b""])
                                  for _ in range(rng.randint(0, 60))))
        expected = list(python_lines(path))
        for read_bytes in (1, 5, 64, 1 << 20):
            assert read(path, read_bytes) == expected
            for chunk_rows, chunk_bytes in ((None, 10), (3, 1000), (1, 1), (None, 1 << 26), (7, 400)):
                chunks = list(_chunks(_jsonl_blocks(path, read_bytes), chunk_rows, chunk_bytes))
                flat = [(int(n), raw) for numbers, values in chunks
                        for n, raw in zip(numbers, values.to_pylist(), strict=True)]
                assert flat == expected
                assert [len(numbers) for numbers, _ in chunks] == greedy_chunk_sizes(expected, chunk_rows, chunk_bytes)
