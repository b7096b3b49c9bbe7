#!/usr/bin/env python3
"""Peer for bench/hvp.ts: PyTorch (CPU) gradient and Hessian-vector product of the same MLP,
loss, data and weights as curvlab's, so that both compute the same thing.

The model is Sequential(Linear(W0, W1), ACT, ..., Linear(Wk-1, Wk)) with CrossEntropyLoss()
(mean over the batch); its parameters come from one flat vector in state_dict order (0.weight
[W1, W0], 0.bias [W1], 2.weight, ...), which is curvlab's layout. The HVP is the standard double
backward: g = autograd.grad(loss, params, create_graph=True), then autograd.grad(sum g . v).

A server: one JSON command per stdin line, one JSON answer per stdout line, so that the caller can
interleave runs of PyTorch and of its own code in one process run:
  {"cmd": "info"}                             -> torch/numpy versions, threads, CPU capability
  {"cmd": "threads", "n": N}                  -> torch.set_num_threads(N)
  {"cmd": "load", "dir": D, "widths": [...], "activation": "tanh"|"relu"}
        reads D/x.npy [n, W0] f4, D/y.npy [n] i4 (class indices), D/theta.npy f4, D/v.npy f4
  {"cmd": "compute", "out": D}                -> writes D/torch_{grad,hvp}_{f32,f64}.npy (float64
                                                 runs the same formulas on float64 copies: a
                                                 reference for the float32 results of both sides)
  {"cmd": "time", "what": "grad"|"hvp", "reps": R}  -> {"seconds": [...]}, R timed calls
  {"cmd": "gemm", "m": M, "k": K, "n": N, "kind": "NT"|"TN"|"NN", "reps": R}
                                              -> {"gflops": [...]} for one float32 matmul shape
  {"cmd": "quit"}
"""
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jsonline  # noqa: E402


class Problem:
    def __init__(self, x, y, theta, v, widths, activation):
        self.x = x
        self.y = y
        self.widths = widths
        self.act = {"tanh": torch.tanh, "relu": torch.relu}[activation]
        self.params = [p.requires_grad_(True) for p in split(theta, widths)]
        self.v = [p.detach() for p in split(v, widths)]

    def loss(self):
        h = self.x
        n = len(self.widths) - 1
        for l in range(n):
            h = F.linear(h, self.params[2 * l], self.params[2 * l + 1])
            if l + 1 < n:
                h = self.act(h)
        return F.cross_entropy(h, self.y)

    def grad(self):
        return torch.autograd.grad(self.loss(), self.params)

    def hvp(self):
        g = torch.autograd.grad(self.loss(), self.params, create_graph=True)
        gv = sum((gi * vi).sum() for gi, vi in zip(g, self.v))
        return torch.autograd.grad(gv, self.params)


def split(flat, widths):
    out, k = [], 0
    for l in range(len(widths) - 1):
        o, i = widths[l + 1], widths[l]
        out.append(flat[k : k + o * i].reshape(o, i).clone())
        k += o * i
        out.append(flat[k : k + o].clone())
        k += o
    if k != flat.numel():
        raise ValueError(f"theta has {flat.numel()} values, widths {widths} need {k}")
    return out


def flat(ts):
    return torch.cat([t.reshape(-1) for t in ts]).detach().numpy()


def load(d, widths, activation, dtype):
    x = torch.from_numpy(np.load(os.path.join(d, "x.npy"))).to(dtype)
    y = torch.from_numpy(np.load(os.path.join(d, "y.npy")).astype(np.int64))
    theta = torch.from_numpy(np.load(os.path.join(d, "theta.npy"))).to(dtype)
    v = torch.from_numpy(np.load(os.path.join(d, "v.npy"))).to(dtype)
    if x.shape[1] != widths[0]:
        raise ValueError(f"x has {x.shape[1]} features, widths[0] is {widths[0]}")
    return Problem(x, y, theta, v, widths, activation)


def blas():
    """The BLAS library torch's matmuls actually call (read from the process's mapped files)."""
    a = torch.ones(64, 64)
    (a @ a).sum().item()
    paths = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                p = line.split()[-1] if len(line.split()) >= 6 else ""
                base = os.path.basename(p).lower()
                if ("blas" in base or "mkl" in base or "blis" in base) and p not in paths:
                    paths.append(p)
    except OSError:
        return {"name": "unknown"}
    name, config = "unknown", None
    for p in paths:
        low = p.lower()
        if "openblas" in low:
            name = "OpenBLAS"
            try:
                import ctypes

                lib = ctypes.CDLL(p)
                lib.openblas_get_config.restype = ctypes.c_char_p
                config = lib.openblas_get_config().decode()
            except Exception:
                pass
            break
        if "mkl" in low:
            name = "MKL"
            break
        if "blis" in low:
            name = "BLIS"
            break
        if os.path.basename(low).startswith("libblas.so") and os.path.basename(os.path.dirname(low)) == "blas":
            name = "reference BLAS (netlib)"
    return {"name": name, "config": config, "files": [os.path.basename(p) for p in paths]}


def gemm(m, k, n, kind, reps):
    """GFLOP/s of one float32 matmul shape: NT = A [m,k] times B [n,k] transposed (a Linear
    layer's forward), TN = A [k,m] transposed times B [k,n] (a weight gradient)."""
    g = torch.Generator().manual_seed(0)
    a = torch.randn(*((k, m) if kind == "TN" else (m, k)), generator=g)
    b = torch.randn(*((n, k) if kind == "NT" else (k, n)), generator=g)
    f = {"NN": lambda: a @ b, "NT": lambda: a @ b.t(), "TN": lambda: a.t() @ b}[kind]
    f()
    return [2 * m * k * n / t / 1e9 for t in time_runs(f, reps)]


def info():
    cap = None
    try:
        cap = torch.backends.cpu.get_cpu_capability()
    except Exception:  # older torch
        pass
    return {
        "torch": torch.__version__,
        "numpy": np.__version__,
        "threads": torch.get_num_threads(),
        "cpu_capability": cap,
        "mkldnn": torch.backends.mkldnn.is_available(),
        "blas": blas(),
    }


def time_runs(fn, reps):
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def serve():
    torch.set_grad_enabled(True)
    state = {}

    def threads(msg):
        torch.set_num_threads(int(msg["n"]))
        return {"threads": torch.get_num_threads()}

    def load_cmd(msg):
        state["spec"] = (msg["dir"], [int(w) for w in msg["widths"]], msg["activation"])
        state["problem"] = load(*state["spec"], torch.float32)
        return {"ok": True, "size": sum(p.numel() for p in state["problem"].params)}

    def compute(msg):
        out = msg["out"]
        p64 = load(*state["spec"], torch.float64)
        for tag, p in (("f32", state["problem"]), ("f64", p64)):
            np.save(os.path.join(out, f"torch_grad_{tag}.npy"), flat(p.grad()))
            np.save(os.path.join(out, f"torch_hvp_{tag}.npy"), flat(p.hvp()))
        return {"ok": True}

    def time_cmd(msg):
        problem = state["problem"]
        fn = {"grad": problem.grad, "hvp": problem.hvp}[msg["what"]]
        return {"seconds": time_runs(fn, int(msg.get("reps", 1)))}

    jsonline.serve({
        "info": lambda msg: info(),
        "threads": threads,
        "load": load_cmd,
        "compute": compute,
        "time": time_cmd,
        "gemm": lambda msg: {"gflops": gemm(int(msg["m"]), int(msg["k"]), int(msg["n"]), msg["kind"], int(msg.get("reps", 1)))},
    })


if __name__ == "__main__":
    serve()
