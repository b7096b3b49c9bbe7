#!/usr/bin/env python3
"""Peer for bench/eigh.ts: times numpy.linalg.eigvalsh (LAPACK dsyevd through numpy) on the
same matrices as curvlab's eigh.

Two modes:
  python3 eigh_numpy.py MATRIX.bin N [REPS]   one shot: prints {"n", "seconds": [...], "median_s"}
  python3 eigh_numpy.py                       server: one JSON command per stdin line, one JSON
                                              answer per stdout line, so that the caller can
                                              interleave runs of numpy and of its own code:
     {"cmd": "info"}                          -> numpy version, BLAS, thread settings
     {"cmd": "load", "path": P, "n": N}       -> reads a raw little-endian float64 N x N matrix
     {"cmd": "time", "reps": R}               -> {"seconds": [...]} for R calls of eigvalsh
     {"cmd": "values", "out": P}              -> writes the ascending eigenvalues (raw float64)
     {"cmd": "quit"}
"""
import json
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jsonline  # noqa: E402


def load(path, n):
    a = np.fromfile(path, dtype="<f8")
    if a.size != n * n:
        raise ValueError(f"{path}: expected {n * n} float64 values, got {a.size}")
    return a.reshape(n, n)


def time_runs(a, reps):
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        np.linalg.eigvalsh(a)
        out.append(time.perf_counter() - t)
    return out


def info():
    blas = {}
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg.get("Build Dependencies", {}).get("lapack", {})
    except Exception:  # older numpy: no dict mode
        pass
    env = {k: os.environ[k] for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS") if k in os.environ}
    return {"numpy": np.__version__, "lapack": blas.get("name"), "lapack_version": blas.get("version"), "thread_env": env}


def serve():
    state = {}

    def load_cmd(msg):
        state["a"] = load(msg["path"], int(msg["n"]))
        return {"ok": True}

    def values(msg):
        np.linalg.eigvalsh(state["a"]).astype("<f8").tofile(msg["out"])
        return {"ok": True}

    jsonline.serve({
        "info": lambda msg: info(),
        "load": load_cmd,
        "time": lambda msg: {"seconds": time_runs(state["a"], int(msg.get("reps", 1)))},
        "values": values,
    })


def main():
    if len(sys.argv) >= 3:
        n = int(sys.argv[2])
        reps = int(sys.argv[3]) if len(sys.argv) > 3 else 5
        a = load(sys.argv[1], n)
        np.linalg.eigvalsh(a)  # warm-up
        s = time_runs(a, reps)
        print(json.dumps({"n": n, "seconds": s, "median_s": statistics.median(s), **info()}))
    else:
        serve()


if __name__ == "__main__":
    main()
