#!/usr/bin/python3
"""Reads back what io_writer_test wrote, with h5py and pandas, and compares it with the
expectation files (<file>.expect.json) written beside each result.

usage: check_output.py SCRATCH_DIR      exit status 0 when every file matches
"""
import json
import math
import pathlib
import sys

import h5py
import numpy as np
import pandas as pd

DTYPES = {
    "uint8": "<u1", "uint16": "<u2", "uint32": "<u4", "uint64": "<u8",
    "int8": "<i1", "int16": "<i2", "int32": "<i4", "int64": "<i8",
    "float32": "<f4", "float64": "<f8",
}

problems = []


def problem(where, text):
    problems.append(f"{where}: {text}")


def expected_value(dtype, v):
    if dtype == "float32":
        return np.float32(float(v))
    if dtype == "float64":
        return float(v)
    return v


def same(dtype, got, want):
    if dtype in ("float32", "float64"):
        if dtype == "float32":
            got = np.float32(got)  # CSV holds float32's own shortest form; read as float64
        got, want = float(got), float(want)
        if math.isnan(want):
            return math.isnan(got)
        return got == want and math.copysign(1.0, got) == math.copysign(1.0, want)
    if dtype == "string":
        if isinstance(got, bytes):
            got = got.decode("utf-8")
        return got == want
    return int(got) == int(want)


def compare(where, dtype, got, values):
    if len(got) != len(values):
        problem(where, f"{len(got)} rows, expected {len(values)}")
        return
    for i, (g, v) in enumerate(zip(got, values)):
        if not same(dtype, g, expected_value(dtype, v)):
            problem(where, f"row {i}: {g!r}, expected {v!r}")
            return


def check_run_attrs(where, attrs, exp):
    for key in ("job", "pearl_version", "started", "finished"):
        if attrs.get(key) != exp[key]:
            problem(where, f"attribute {key} = {attrs.get(key)!r}, expected {exp[key]!r}")
    if int(attrs.get("ranks", -1)) != exp["ranks"]:
        problem(where, f"attribute ranks = {attrs.get('ranks')!r}, expected {exp['ranks']}")
    params = json.loads(attrs.get("parameters", "null"))
    if list(params.items()) != [tuple(p) for p in exp["parameters"]]:
        problem(where, f"attribute parameters = {params!r}")
    inputs = json.loads(attrs.get("inputs", "null"))
    if inputs != exp["inputs"]:
        problem(where, f"attribute inputs = {inputs!r}, expected {exp['inputs']!r}")


def check_hdf5(exp):
    path = exp["file"]
    with h5py.File(path, "r") as f:
        names = [t["name"] for t in exp["tables"]]
        # The root group tracks creation order too, but h5py < 3.11 lists File.keys()
        # alphabetically (h5py issue #1577, fixed by h5py PR #2410); f["/"] is in order.
        if list(f["/"].keys()) != names:
            problem(path, f"tables {list(f['/'].keys())}, expected {names}")
        check_run_attrs(path + ":/", f.attrs, exp)
        if [str(x) for x in f.attrs.get("tables", [])] != names:
            problem(path, f"attribute tables = {f.attrs.get('tables')!r}")
        for table in exp["tables"]:
            name = table["name"]
            where = f"{path}:/{name}"
            if name not in f:
                problem(where, "missing")
                continue
            g = f[name]
            cols = [c["name"] for c in table["columns"]]
            if list(g.keys()) != cols:
                problem(where, f"datasets listed as {list(g.keys())}, expected {cols} (creation order)")
            if [str(x) for x in g.attrs.get("columns", [])] != cols:
                problem(where, f"attribute columns = {g.attrs.get('columns')!r}")
            nrows = len(table["columns"][0]["values"])
            if int(g.attrs.get("rows", -1)) != nrows:
                problem(where, f"attribute rows = {g.attrs.get('rows')!r}, expected {nrows}")
            check_run_attrs(where, g.attrs, exp)
            for col in table["columns"]:
                ds = g[col["name"]]
                cw = f"{where}/{col['name']}"
                if ds.ndim != 1:
                    problem(cw, f"{ds.ndim}-D")
                if col["dtype"] == "string":
                    info = h5py.check_string_dtype(ds.dtype)
                    if info is None or info.encoding != "utf-8" or info.length is not None:
                        problem(cw, f"dtype {ds.dtype} ({info}), expected variable-length UTF-8")
                    compare(cw, "string", ds.asstr()[:], col["values"])
                else:
                    if ds.dtype != np.dtype(DTYPES[col["dtype"]]):
                        problem(cw, f"dtype {ds.dtype}, expected {DTYPES[col['dtype']]}")
                    compare(cw, col["dtype"], ds[:], col["values"])

            # pandas, the usual way: one DataFrame column per dataset.
            df = pd.DataFrame({c: g[c][:] for c in cols})
            if list(df.columns) != cols or len(df) != nrows:
                problem(where, f"pandas: columns {list(df.columns)}, {len(df)} rows")
            text = pd.DataFrame({c["name"]: (g[c["name"]].asstr()[:] if c["dtype"] == "string" else g[c["name"]][:])
                                 for c in table["columns"]})
            for col in table["columns"]:
                cw = f"{where}/{col['name']} (pandas)"
                if col["dtype"] == "string":
                    if text[col["name"]].dtype != object:
                        problem(cw, f"dtype {text[col['name']].dtype}")
                    compare(cw, "string", list(df[col["name"]]), col["values"])  # bytes, decoded in same()
                    compare(cw, "string", list(text[col["name"]]), col["values"])
                else:
                    if df[col["name"]].dtype != np.dtype(DTYPES[col["dtype"]]):
                        problem(cw, f"dtype {df[col['name']].dtype}, expected {DTYPES[col['dtype']]}")
                    compare(cw, col["dtype"], list(df[col["name"]]), col["values"])


def check_csv(exp):
    for table in exp["tables"]:
        path = pathlib.Path(exp["csv_dir"]) / (table["name"] + ".csv")
        where = str(path)
        if not path.exists():
            problem(where, "missing")
            continue
        cols = [c["name"] for c in table["columns"]]
        floats = [c["name"] for c in table["columns"] if c["dtype"].startswith("float")]
        strings = {c["name"]: str for c in table["columns"] if c["dtype"] == "string"}
        # float_precision="round_trip": pandas' default fast parser may be 1 ulp off on
        # 17-digit doubles; the round-trip parser reads back the exact value written.
        df = pd.read_csv(path, keep_default_na=False, na_values={c: ["NaN"] for c in floats}, dtype=strings,
                         float_precision="round_trip")
        if list(df.columns) != cols:
            problem(where, f"columns {list(df.columns)}, expected {cols}")
            continue
        for col in table["columns"]:
            compare(f"{where}:{col['name']}", col["dtype"], list(df[col["name"]]), col["values"])


def main():
    root = pathlib.Path(sys.argv[1])
    files = sorted(root.rglob("*.expect.json"))
    if not files:
        print(f"check_output.py: no expectation files under {root}")
        return 1
    for e in files:
        exp = json.loads(e.read_text(encoding="utf-8"))
        check_hdf5(exp)
        check_csv(exp)
    for p in problems:
        print("check_output.py:", p)
    print(f"check_output.py: {len(files)} files, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
