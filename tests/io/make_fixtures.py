#!/usr/bin/python3
"""Builds the HDF5 fixtures of pearl's io tests, as the tools that feed pearl write them.

Usage: /usr/bin/python3 make_fixtures.py OUTPUT_DIR

Writes, with h5py and pandas (PyTables), every layout and type variation of the input
contract (docs/contracts/tables.md) plus broken files, and next to each readable
table the values a reader must deliver: OUTPUT_DIR/expected/<fixture>/<column>.txt, one
value per line (integers as decimal, floats as repr() of the exact double, strings as
UTF-8 text). Deterministic: the same files every run.
"""
import os
import shutil
import sys
import warnings

import h5py
import numpy as np
import pandas as pd

warnings.simplefilter("ignore")  # PyTables' NaturalNameWarning and pandas' PerformanceWarning

FINAL = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "fixtures")
# Written next to the final directory and swapped in at the end, so a test running
# concurrently (another ctest in the same build tree) never sees half-written files.
OUT = "%s.new-%d" % (FINAL, os.getpid())
RNG = np.random.default_rng(20240301)


def expect(fixture, column, values):
    """Writes the values a reader must deliver for one column."""
    d = os.path.join(OUT, "expected", fixture)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, column + ".txt"), "w", encoding="utf-8") as f:
        for v in values:
            if isinstance(v, (bytes, np.bytes_)):
                v = v.decode("utf-8")
            if isinstance(v, (float, np.floating)):
                v = repr(float(v))
            elif isinstance(v, (int, np.integer)):
                v = str(int(v))
            assert "\n" not in str(v)
            f.write(str(v) + "\n")


def cases_frame(n, first_id=0):
    """A cases table in numpy dtypes as a department might store it (narrow/wide ints)."""
    diseases = np.array(["A90", "B08.4", "J11", "A01.0", "B05"])
    onset = RNG.integers(19000, 19500, n).astype(np.int32)
    return {
        "case_id": np.arange(first_id, first_id + n, dtype=np.uint64),
        "person_id": RNG.integers(0, 2**63, n, dtype=np.uint64) * 2 + 1,  # uses the top bit
        "sex": RNG.integers(1, 3, n).astype(np.uint8),
        "age_years": RNG.integers(0, 121, n).astype(np.int16),  # int16, contract uint8
        "region_code": RNG.choice([440106, 441900, 445302, 440304], n).astype(np.int64),  # int64, contract uint32
        "disease": diseases[RNG.integers(0, len(diseases), n)],
        "onset_day": onset,
        "report_day": (onset + RNG.integers(0, 10, n)).astype(">i8"),  # big-endian int64, contract int32
    }


def expect_cases(fixture, cols):
    for name, values in cols.items():
        expect(fixture, name, values)


def write_columnar(group, cols, chunk=None, gzip=None, shuffle=False, fixed_strings=True):
    for name, values in cols.items():
        if values.dtype.kind == "U" and fixed_strings:
            width = max([1] + [len(v.encode()) for v in values])
            data = np.array([v.encode() for v in values], dtype="S%d" % width)
        elif values.dtype.kind == "U":
            data = np.array(list(values), dtype=h5py.string_dtype("utf-8"))
        else:
            data = values
        kw = {}
        if chunk and len(values) > 0:
            kw["chunks"] = (min(chunk, len(values)),)
            if gzip is not None:
                kw["compression"] = "gzip"
                kw["compression_opts"] = gzip
            kw["shuffle"] = shuffle
        elif chunk:
            kw["chunks"] = (chunk,)
            kw["maxshape"] = (None,)
        group.create_dataset(name, data=data, **kw)


def columnar():
    """/cases as a columnar group: mixed widths, chunked gzip+shuffle, extra datasets."""
    n = 1000
    cols = cases_frame(n)
    with h5py.File(os.path.join(OUT, "columnar.h5"), "w") as f:
        g = f.create_group("cases")
        write_columnar(g, cols, chunk=128, gzip=4, shuffle=True)
        g.create_dataset("note", data=np.array(["extra"] * n, dtype=h5py.string_dtype("utf-8")))  # ignored
        g.create_dataset("matrix", data=np.zeros((n, 2)))  # 2-D: not a column
        g.create_group("sub")
    expect_cases("columnar", cols)


def strings():
    """Every string storage of the contract, in one columnar group."""
    values = ["A90", "B08.4", "", "J11 x", "dengue"]
    utf8 = ["福田", "Tianhe 天河", "", "a", "深圳北站"]
    n = len(values)
    with h5py.File(os.path.join(OUT, "strings.h5"), "w") as f:
        g = f.create_group("strings")
        g.create_dataset("nullpad", data=np.array([v.encode() for v in values], dtype="S8"))  # h5py: NULLPAD
        for name, pad in (("spacepad", h5py.h5t.STR_SPACEPAD), ("nullterm", h5py.h5t.STR_NULLTERM)):
            tid = h5py.h5t.C_S1.copy()
            tid.set_size(8)
            tid.set_strpad(pad)
            d = h5py.h5d.create(g.id, name.encode(), tid, h5py.h5s.create_simple((n,)))
            d.write(h5py.h5s.ALL, h5py.h5s.ALL, np.array([v.encode() for v in values], dtype="S8"))
        tid = h5py.h5t.C_S1.copy()
        tid.set_size(16)
        tid.set_strpad(h5py.h5t.STR_NULLPAD)
        tid.set_cset(h5py.h5t.CSET_UTF8)
        d = h5py.h5d.create(g.id, b"utf8_fixed", tid, h5py.h5s.create_simple((n,)))
        d.write(h5py.h5s.ALL, h5py.h5s.ALL, np.array([v.encode() for v in utf8], dtype="S16"), mtype=tid)
        g.create_dataset("utf8_variable", data=np.array(utf8, dtype=h5py.string_dtype("utf-8")),
                         chunks=(2,), compression="gzip")
        g.create_dataset("ascii_variable", data=np.array([v.encode() for v in values], dtype=h5py.string_dtype("ascii")))
        g.create_dataset("number", data=np.arange(n, dtype=np.int32))
    for name in ("nullpad", "spacepad", "nullterm", "ascii_variable"):
        expect("strings", name, values)
    expect("strings", "utf8_fixed", utf8)
    expect("strings", "utf8_variable", utf8)
    expect("strings", "number", range(n))


def compound():
    """/taps as an h5py structured array (chunked, gzip+shuffle), and a big-endian,
    narrow-typed variant with a variable-length string member."""
    n = 777
    dt = np.dtype([("card_id", "<u8"), ("tap_time", "<i8"), ("station_id", "<u4"), ("line_id", "<u2"),
                   ("tap_type", "u1"), ("fare", "<f8"), ("comment", "S10")])
    a = np.zeros(n, dtype=dt)
    a["card_id"] = RNG.integers(0, 2**64 - 1, n, dtype=np.uint64)
    a["tap_time"] = 1704067200 + RNG.integers(0, 86400 * 30, n)
    a["station_id"] = RNG.integers(1, 300, n)
    a["line_id"] = RNG.integers(1, 12, n)
    a["tap_type"] = RNG.integers(1, 4, n)
    a["fare"] = np.round(RNG.uniform(0, 12, n), 1)
    a["comment"] = b"x"
    bt = np.dtype([("station_id", ">u2"), ("line_id", "u1"), ("name", h5py.string_dtype("utf-8")),
                   ("lon", ">f8"), ("lat", ">f4")])
    b = np.zeros(4, dtype=bt)
    b["station_id"] = [1, 2, 300, 65535]
    b["line_id"] = [1, 1, 5, 255]
    b["name"] = ["罗湖", "国贸", "深圳北站", "Airport East"]
    b["lon"] = [114.118, 114.119, 114.029, 113.8]
    b["lat"] = np.array([22.532, 22.539, 22.61, 22.65], dtype=">f4")
    with h5py.File(os.path.join(OUT, "compound.h5"), "w") as f:
        f.create_dataset("taps", data=a, chunks=(64,), compression="gzip", compression_opts=6, shuffle=True)
        f.create_dataset("stations", data=b)
    for name in ("card_id", "tap_time", "station_id", "line_id", "tap_type", "fare"):
        expect("compound", name, a[name])
    for name in ("station_id", "line_id", "name", "lon", "lat"):
        expect("stations", name, b[name])


def pandas_files():
    """pandas' three ways: table with data_columns (readable), table without (values_block_N),
    and the default fixed format (blockN_values)."""
    n = 300
    cols = cases_frame(n)
    cols["report_day"] = cols["report_day"].astype(np.int64)  # pandas normalises to native order
    df = pd.DataFrame(cols)
    path = os.path.join(OUT, "pandas_table.h5")
    df.to_hdf(path, key="cases", format="table", data_columns=True, index=False, complevel=5, complib="zlib")
    expect_cases("pandas_table", cols)
    df.to_hdf(os.path.join(OUT, "pandas_blocks.h5"), key="cases", format="table")
    df.to_hdf(os.path.join(OUT, "pandas_fixed.h5"), key="cases")


def shards():
    """cases split over shards of different lengths and layouts, one of them empty;
    case_id is the global row number, so coverage is easy to check."""
    d = os.path.join(OUT, "shards")
    os.makedirs(d, exist_ok=True)
    sizes = [1000, 0, 37, 500, 1, 250]
    first = 0
    for i, n in enumerate(sizes):
        cols = cases_frame(n, first)
        path = os.path.join(d, "cases-%02d.h5" % i)
        if i == 2:  # compound
            a = np.zeros(n, dtype=[(k, v.dtype if v.dtype.kind != "U" else "S8") for k, v in cols.items()])
            for k, v in cols.items():
                a[k] = v if v.dtype.kind != "U" else np.array([s.encode() for s in v])
            with h5py.File(path, "w") as f:
                f.create_dataset("cases", data=a)
        elif i == 3:  # pandas
            c = dict(cols)
            c["report_day"] = c["report_day"].astype(np.int64)
            pd.DataFrame(c).to_hdf(path, key="cases", format="table", data_columns=True, index=False)
        else:
            with h5py.File(path, "w") as f:
                write_columnar(f.create_group("cases"), cols, chunk=64, gzip=1, shuffle=True)
        expect("shards/%02d" % i, "case_id", cols["case_id"])
        first += n
    with open(os.path.join(d, "README"), "w") as f:
        f.write("not a shard: the glob cases-*.h5 must not match this\n")


def broken():
    """Files the reader must refuse with a clear message."""
    n = 40
    cols = cases_frame(n)
    with h5py.File(os.path.join(OUT, "out_of_range.h5"), "w") as f:
        c = dict(cols)
        c["age_years"] = c["age_years"].copy()
        c["age_years"][17] = 300
        write_columnar(f.create_group("cases"), c)
    with h5py.File(os.path.join(OUT, "out_of_range_compound.h5"), "w") as f:
        a = np.zeros(n, dtype=[("case_id", "<u8"), ("age_years", "<i2"), ("region_code", "<i8")])
        a["case_id"] = np.arange(n)
        a["age_years"] = 30
        a["age_years"][23] = -1
        a["region_code"] = 440106
        f.create_dataset("cases", data=a, chunks=(8,))
    with h5py.File(os.path.join(OUT, "lzf.h5"), "w") as f:  # a filter only h5py has
        f.create_group("deaths").create_dataset("person_id", data=np.arange(n, dtype=np.uint64), compression="lzf")
    with h5py.File(os.path.join(OUT, "float_card.h5"), "w") as f:
        g = f.create_group("taps")
        g.create_dataset("card_id", data=np.arange(n, dtype=np.float64))
        g.create_dataset("fare", data=np.zeros(n))
    with h5py.File(os.path.join(OUT, "unequal.h5"), "w") as f:
        g = f.create_group("deaths")
        g.create_dataset("person_id", data=np.arange(5, dtype=np.uint64))
        g.create_dataset("death_day", data=np.arange(4, dtype=np.int32))
    with h5py.File(os.path.join(OUT, "lossy.h5"), "w") as f:
        g = f.create_group("values")
        g.create_dataset("exact_f64", data=np.array([0.5, -2.25, 2.0**100, np.inf], dtype=np.float64))
        g.create_dataset("inexact_f64", data=np.array([0.5, 0.1, 2.0, 3.0], dtype=np.float64))
        g.create_dataset("big_int", data=np.array([1, 2**53, -(2**53), 2**53 + 1], dtype=np.int64))
        g.create_dataset("negative", data=np.array([1, 2, -1, 4], dtype=np.int32))
        g.create_dataset("u64_top", data=np.array([0, 2**63, 1, 2], dtype=np.uint64))
        g.create_dataset("flag", data=np.array([True, False, True, True]))  # enum: not in the contract
        g.create_dataset("half", data=np.array([0.5, 1.5, -2.0, 65504], dtype=np.float16))
    expect("lossy", "exact_f64", [0.5, -2.25, 2.0**100, float("inf")])
    expect("lossy", "half", [0.5, 1.5, -2.0, 65504.0])
    # Types that make a row gigabytes wide (HDF5 allows up to 4 GiB per value): written
    # a few rows wide, gzip keeps the file small.
    with h5py.File(os.path.join(OUT, "oversized.h5"), "w") as f:
        g = f.create_group("stations")
        g.create_dataset("station_id", data=np.arange(3, dtype=np.uint32))
        g.create_dataset("name", data=np.array([b"x", b"y", b"z"], dtype="S100000"), compression="gzip")
        g.create_dataset("short_name", data=np.array([b"a", b"bb", b"ccc"], dtype="S65536"), compression="gzip")
        wide = h5py.h5t.IEEE_F64LE.copy()
        wide.set_size(1 << 20)
        lon = h5py.h5d.create(g.id, b"lon", wide, h5py.h5s.create_simple((3,)))
        lon.write(h5py.h5s.ALL, h5py.h5s.ALL, np.zeros(3 << 20, dtype=np.uint8), mtype=wide)
        taps = np.zeros(3, dtype=[("card_id", "<u8"), ("note", "S2000000")])
        f.create_dataset("taps", data=taps, compression="gzip")
    # A virtual dataset keeps its rows in another file: nothing of its own to check.
    with h5py.File(os.path.join(OUT, "virtual_source.h5"), "w") as f:
        f.create_dataset("person_id", data=np.arange(10, dtype=np.uint64) * 3)
    with h5py.File(os.path.join(OUT, "virtual.h5"), "w") as f:
        layout = h5py.VirtualLayout(shape=(10,), dtype=np.uint64)
        layout[:] = h5py.VirtualSource("virtual_source.h5", "person_id", shape=(10,))
        g = f.create_group("deaths")
        g.create_virtual_dataset("person_id", layout)
        g.create_dataset("death_day", data=np.arange(10, dtype=np.int32))
    # Rows declared but never written: HDF5 would read them as zeros.
    with h5py.File(os.path.join(OUT, "unwritten.h5"), "w") as f:
        g = f.create_group("deaths")
        g.create_dataset("person_id", data=np.arange(5, dtype=np.uint64))
        g.create_dataset("death_day", shape=(5,), dtype=np.int32)
        g = f.create_group("gps")
        g.create_dataset("vehicle_id", data=np.arange(100, dtype=np.uint32), chunks=(10,))
        g.create_dataset("speed_kmh", shape=(100,), dtype=np.float32, chunks=(10,))
        g["speed_kmh"][:25] = 1.0  # 3 of 10 chunks written
    # A valid file cut in half, and a text file with an .h5 name.
    src = os.path.join(OUT, "columnar.h5")
    with open(src, "rb") as f:
        data = f.read()
    with open(os.path.join(OUT, "truncated.h5"), "wb") as f:
        f.write(data[: len(data) // 2])
    with open(os.path.join(OUT, "not_hdf5.h5"), "w") as f:
        f.write("region_code,cases\n440106,3\n")


def vlen_strings():
    """Variable-length strings in the layouts pearl reads from the file's bytes (contiguous,
    unfiltered: the reader parses HDF5's global heap itself) and one it leaves to HDF5
    (chunked): 70,000 rows over many heap collections and more than one read block,
    empty strings, UTF-8, a value larger than a heap collection, two string members
    around numbers in a compound, in a file with a user block (heap addresses are
    relative to it; the other fixtures have none), and a copy whose heap is damaged."""
    n = 70_000
    words = np.array(["", "A90", "B08.4", "Tianhe 天河", "x" * 40, "dengue fever", "深圳北站"], dtype=object)
    text = words[RNG.integers(0, len(words), n)].copy()
    text[7] = "x" * 100_000  # its own collection
    note = np.array([f"n{i}" for i in range(n)], dtype=object)
    rec = np.zeros(n, dtype=[("id", "<u4"), ("text", h5py.string_dtype("utf-8")), ("flag", "u1"),
                             ("note", h5py.string_dtype("utf-8")), ("amount", "<f8")])
    rec["id"], rec["text"], rec["flag"], rec["note"] = np.arange(n), text, np.arange(n) % 3, note
    rec["amount"] = np.arange(n) / 4
    with h5py.File(os.path.join(OUT, "vlen_strings.h5"), "w", userblock_size=512) as f:
        g = f.create_group("columns")
        g.create_dataset("text", data=text, dtype=h5py.string_dtype("utf-8"))
        g.create_dataset("chunked", data=text, dtype=h5py.string_dtype("utf-8"), chunks=(1000,))
        g.create_dataset("note", data=note, dtype=h5py.string_dtype("utf-8"))
        f.create_dataset("records", data=rec)
    for column, values in (("text", text), ("chunked", text), ("note", note), ("id", rec["id"]),
                           ("flag", rec["flag"]), ("amount", rec["amount"])):
        expect("vlen_strings", column, values)
    # The signature of the heap collection holding /columns/text's first string overwritten:
    # HDF5 refuses to read the strings. Its element: length (4), collection address (8),
    # object index (4); addresses count from the end of the user block.
    with h5py.File(os.path.join(OUT, "vlen_strings.h5"), "r") as f:
        element = f["columns/text"].id.get_offset()
    shutil.copy(os.path.join(OUT, "vlen_strings.h5"), os.path.join(OUT, "vlen_damaged_heap.h5"))
    with open(os.path.join(OUT, "vlen_damaged_heap.h5"), "r+b") as f:
        f.seek(element + 4)
        collection = 512 + int.from_bytes(f.read(8), "little")
        f.seek(collection)
        assert f.read(4) == b"GCOL"
        f.seek(collection)
        f.write(b"XXXX")
    # The first string's length made 0xff000008 bytes, more than the file: HDF5 would
    # allocate that much and read past the heap.
    shutil.copy(os.path.join(OUT, "vlen_strings.h5"), os.path.join(OUT, "vlen_damaged_length.h5"))
    with open(os.path.join(OUT, "vlen_damaged_length.h5"), "r+b") as f:
        f.seek(element)
        f.write((0xFF000008).to_bytes(4, "little"))


def gzip_chunks():
    """gzip-compressed columns, which the reader reads chunk by chunk and inflates itself:
    deflate alone and shuffle + deflate, a partial last chunk, an int64 column read as
    uint32 (range-checked, one value out of range at row 1234), big-endian values (left to
    HDF5), fixed strings; a chunk its filters skipped (stored raw, as HDF5 does when a
    chunk does not compress), chunks never written (fill values), and a copy with one
    chunk's compressed bytes damaged."""
    n, chunk = 5000, 256
    ids = np.arange(n, dtype=np.uint64) * 7919
    wide = RNG.integers(0, 2**31, n).astype(np.int64)
    big = RNG.integers(-2**40, 2**40, n).astype(">i8")
    text = np.array([f"code-{i % 97}".encode() for i in range(n)], dtype="S12")
    values = RNG.random(n)
    with h5py.File(os.path.join(OUT, "gzip_chunks.h5"), "w") as f:
        g = f.create_group("t")
        g.create_dataset("id", data=ids, chunks=(chunk,), compression="gzip")
        g.create_dataset("wide", data=wide, chunks=(chunk,), compression="gzip", shuffle=True)
        g.create_dataset("big", data=big, chunks=(chunk,), compression="gzip", shuffle=True)
        g.create_dataset("text", data=text, chunks=(chunk,), compression="gzip", shuffle=True)
        d = g.create_dataset("value", data=values, chunks=(chunk,), compression="gzip", shuffle=True)
        # chunk 3 written again without its filters (filter mask 0b11: both skipped)
        d.id.write_direct_chunk((3 * chunk,), values[3 * chunk:4 * chunk].tobytes(), filter_mask=0b11)
        sparse = g.create_dataset("sparse", shape=(n,), dtype="<i4", chunks=(chunk,), compression="gzip",
                                  fillvalue=-1)
        sparse[chunk:2 * chunk] = np.arange(chunk, dtype=np.int32)  # the other chunks never written
        out_of_range = wide.copy()
        out_of_range[1234] = 2**40
        g.create_dataset("out_of_range", data=out_of_range, chunks=(chunk,), compression="gzip", shuffle=True)
    sparse = np.full(n, -1, dtype=np.int64)
    sparse[chunk:2 * chunk] = np.arange(chunk)
    for column, v in (("id", ids), ("wide", wide), ("big", big), ("text", text), ("value", values),
                      ("sparse", sparse)):
        expect("gzip_chunks", column, v)
    # one chunk of "id" with its compressed bytes damaged: HDF5's error, as before
    shutil.copy(os.path.join(OUT, "gzip_chunks.h5"), os.path.join(OUT, "gzip_damaged.h5"))
    with h5py.File(os.path.join(OUT, "gzip_damaged.h5"), "r") as f:
        where = f["t/id"].id.get_chunk_info_by_coord((2 * chunk,)).byte_offset
    with open(os.path.join(OUT, "gzip_damaged.h5"), "r+b") as f:
        f.seek(where + 20)
        f.write(b"\xff" * 16)


def bad_values():
    """Values outside the contract's domains (row_checks), one table per layout, and the
    string faults a reader must name: invalid UTF-8, a NUL inside a fixed-length string
    (a NUL at the end is padding), a 1 MB value, a complex (compound) column."""
    age = np.array([10, 200, 121, 50, 120], dtype=np.uint8)
    sex = np.array([1, 7, 2, 0, 2], dtype=np.uint8)
    region = np.array([440106, 440106, 110101, 441900, 445302], dtype=np.uint32)
    with h5py.File(os.path.join(OUT, "bad_values.h5"), "w") as f:
        g = f.create_group("cases")
        g.create_dataset("age_years", data=age)
        g.create_dataset("sex", data=sex)
        g.create_dataset("region_code", data=region)
        # row 1 holds an embedded NUL; row 3 "A90" is padded with NULs, which is normal
        g.create_dataset("disease_fixed", data=np.array([b"J11", b"A9\0X", b"B08.4", b"A90\0\0", b"x"], dtype="S8"))
        d = g.create_dataset("disease", shape=(5,), dtype=h5py.string_dtype("utf-8"))
        for i, v in enumerate([b"J11", b"A90", b"B\xff\xfe", b"\xe7\x99\xbb", b"x" * (1 << 20) + b"\xc3"]):
            d[i] = v  # bytes are stored as given, not checked by h5py
        g.create_dataset("weight", data=np.array([1 + 2j] * 5, dtype=np.complex128))
    write = np.zeros(5, dtype=[("age_years", "u1"), ("sex", "u1"), ("region_code", "<u4")])
    write["age_years"], write["sex"], write["region_code"] = age, sex, region
    with h5py.File(os.path.join(OUT, "bad_values_compound.h5"), "w") as f:
        f.create_dataset("cases", data=write)


def main():
    os.makedirs(OUT)
    columnar()
    strings()
    compound()
    vlen_strings()
    gzip_chunks()
    pandas_files()
    shards()
    broken()
    bad_values()
    old = "%s.old-%d" % (FINAL, os.getpid())
    if os.path.exists(FINAL):
        os.rename(FINAL, old)
    os.rename(OUT, FINAL)
    shutil.rmtree(old, ignore_errors=True)
    print("fixtures written to", FINAL)


if __name__ == "__main__":
    main()
