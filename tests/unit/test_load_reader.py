"""The JSONL reader of `load` finds lines with array operations over blocks of bytes; it must give exactly the
lines (and line numbers) Python's own line iteration gives, and cut them into chunks as full as the bounds allow;
read ahead on a thread of its own, it gives the same blocks in the same order, and its errors where they arise."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest import files
from ingest.files import _chunks, _jsonl_blocks, _read_ahead, load_files


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


def test_reading_ahead_gives_every_item_in_order_and_raises_where_the_reader_failed() -> None:
    assert list(_read_ahead(iter(range(1000)))) == list(range(1000))

    def failing() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("line 3 is unreadable")

    got: list[int] = []
    with pytest.raises(ValueError, match="line 3 is unreadable"):
        for item in _read_ahead(failing()):
            got.append(item)
    assert got == [1, 2]


def reader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "load-read-ahead"]


def test_a_consumer_that_stops_early_stops_the_reader() -> None:
    produced: list[int] = []

    def endless() -> Iterator[int]:
        n = 0
        while True:
            produced.append(n)
            yield n
            n += 1

    reader = _read_ahead(endless())
    assert [next(reader) for _ in range(3)] == [0, 1, 2]
    assert reader_threads()
    reader.close()  # joins the producer: it must not wait forever on a full hand-off
    assert not reader_threads()
    assert len(produced) <= 5  # the hand-off holds one item: the producer ran at most a few ahead


def test_a_load_whose_batch_fails_mid_file_stops_its_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "visits.jsonl"
    path.write_bytes(b"".join(b'{"n": %d}\n' % i for i in range(50_000)))
    read_in_blocks = files._jsonl_blocks
    monkeypatch.setattr(files, "_jsonl_blocks", lambda p: read_in_blocks(p, read_bytes=4096))  # many blocks

    class FailingLander:
        con = None
        calls = 0

        def land(self, _table: object, _source: str) -> None:
            self.calls += 1
            raise RuntimeError("the batch failed")

    lander = FailingLander()
    with pytest.raises(RuntimeError, match="the batch failed") as raised:
        load_files(lander, [path], chunk_bytes=10_000)  # type: ignore[arg-type]
    assert lander.calls == 1
    assert raised.value is not None  # the traceback (and its frames) still held here
    assert not reader_threads()


def test_a_file_read_ahead_gives_the_blocks_read_inline(tmp_path: Path) -> None:
    path = tmp_path / "visits.jsonl"
    path.write_bytes(b"".join(b'{"n": %d}\r\n' % i if i % 7 else b"\n" for i in range(20_000)))
    inline = [(numbers.tolist(), values.to_pylist()) for numbers, values in _jsonl_blocks(path, read_bytes=4096)]
    ahead = [(numbers.tolist(), values.to_pylist())
             for numbers, values in _read_ahead(_jsonl_blocks(path, read_bytes=4096))]
    assert ahead == inline
    assert len(inline) > 10
