#!/usr/bin/env python3
"""Peer for bench/gpu.ts: PyTorch on CUDA (on the CPU where there is no CUDA, for smoke runs), on
the same MLPs, data and weights as curvlab's on WebGPU.

The MLP and its flat parameter layout are bench/peers/hvp_torch.py's (Sequential(Linear, ACT, ...)
with cross-entropy, parameters in state_dict order); HVP = double backward. TF32 is off, so
matmuls are true float32 as on the WebGPU side. Every timing synchronizes the device.

ResNet-20 (He et al. 2016, the CIFAR variant: 3 stages of 3 basic blocks, 16/32/64 channels,
BatchNorm in eval mode, 1x1-convolution shortcuts where the shape changes, global average pooling,
a linear head) is bench/peers/conv_torch.py's, for timing only: its weights are not curvlab's.

Lanczos and SLQ run on flat vectors with full reorthogonalization (three-term step, then one
classical Gram-Schmidt pass against the whole basis, as curvlab's lanczos-tridiagonal.ts), the
tridiagonal matrix on the host in float64: the same work per step as curvlab's.

A server, one JSON command per stdin line, one JSON answer per stdout line (jsonline.py):
  {"cmd": "info"}                                      -> versions, device name, cuda
  {"cmd": "gemm", "n": N, "reps": R}                   -> {"gflops": [...]} float32 N x N x N
  {"cmd": "load", "dir": D, "widths": [...], "activation": "tanh"|"relu"}
        reads D/x.npy, D/y.npy, D/theta.npy, D/v.npy as hvp_torch.py does, onto the device
  {"cmd": "hvp", "out": D}                             -> writes D/torch_hvp_f32.npy (the values)
  {"cmd": "time", "what": "grad"|"hvp", "reps": R}     -> {"seconds": [...]}
  {"cmd": "resnet", "batch": B, "reps": R}             -> {"seconds": [...], "params": P} HVP times
  {"cmd": "lanczos", "steps": M, "k": K, "seed": S}    -> {"seconds", "eigenvalues"} top K Ritz values
  {"cmd": "slq", "probes": P, "steps": M, "seed": S}   -> {"seconds", "trace"}
"""
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jsonline  # noqa: E402
from hvp_torch import Problem  # noqa: E402
from conv_torch import ResNet  # noqa: E402  (ResNet-20 with PyHessian's state_dict names)

DEV = torch.device("cuda" if torch.cuda.is_available() else "cpu")
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False


def sync():
    if DEV.type == "cuda":
        torch.cuda.synchronize()


def timed(fn, reps):
    fn()
    sync()
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        sync()
        out.append(time.perf_counter() - t)
    return out


def info():
    return {
        "torch": torch.__version__,
        "cuda": torch.version.cuda if DEV.type == "cuda" else None,
        "device": torch.cuda.get_device_name(0) if DEV.type == "cuda" else "cpu",
        "threads": torch.get_num_threads(),
    }


def gemm(n, reps):
    g = torch.Generator(device=DEV).manual_seed(0)
    a = torch.randn(n, n, device=DEV, generator=g)
    b = torch.randn(n, n, device=DEV, generator=g)
    return [2 * n**3 / t / 1e9 for t in timed(lambda: a @ b, reps)]


def load(d, widths, activation):
    f = lambda name: np.load(os.path.join(d, name))  # noqa: E731
    x = torch.from_numpy(f("x.npy")).float().to(DEV)
    y = torch.from_numpy(f("y.npy").astype(np.int64)).to(DEV)
    theta = torch.from_numpy(f("theta.npy")).float().to(DEV)
    v = torch.from_numpy(f("v.npy")).float().to(DEV)
    return Problem(x, y, theta, v, widths, activation)


def resnet_hvp(batch, reps):
    torch.manual_seed(0)
    model = ResNet().to(DEV).eval()
    params = [p for p in model.parameters()]
    x = torch.randn(batch, 3, 32, 32, device=DEV)
    y = torch.randint(0, 10, (batch,), device=DEV)
    v = [torch.randn_like(p) for p in params]

    def hvp():
        g = torch.autograd.grad(F.cross_entropy(model(x), y), params, create_graph=True)
        return torch.autograd.grad(sum((gi * vi).sum() for gi, vi in zip(g, v)), params)

    return {"seconds": timed(hvp, reps), "params": sum(p.numel() for p in params)}


def flat_hvp(problem):
    shapes = [p.shape for p in problem.params]
    sizes = [p.numel() for p in problem.params]

    def apply(vec):
        vs = [c.reshape(s) for c, s in zip(torch.split(vec, sizes), shapes)]
        g = torch.autograd.grad(problem.loss(), problem.params, create_graph=True)
        hv = torch.autograd.grad(sum((gi * vi).sum() for gi, vi in zip(g, vs)), problem.params)
        return torch.cat([h.reshape(-1) for h in hv])

    return apply, sum(sizes)


def lanczos(apply, n, steps, start):
    """m steps with full reorthogonalization; returns (alpha, beta) on the host (float64)."""
    q = start / start.norm()
    basis = torch.empty(steps, n, device=DEV)
    alpha, beta = [], []
    prev, b = None, 0.0
    for j in range(steps):
        basis[j] = q
        w = apply(q)
        a = torch.dot(q, w)
        w = w - a * q - (b * prev if prev is not None else 0)
        V = basis[: j + 1]
        c = V @ w
        w = w - V.t() @ c
        a_j = float(a + c[j])
        b_t = w.norm()
        alpha.append(a_j)
        b = float(b_t)
        if j == steps - 1 or b == 0:
            break
        beta.append(b)
        prev, q = q, w / b
    return np.array(alpha), np.array(beta)


def tridiag_eig(alpha, beta):
    T = np.diag(alpha) + np.diag(beta, 1) + np.diag(beta, -1)
    return np.linalg.eigh(T)


def serve():
    torch.set_grad_enabled(True)
    state = {}

    def load_cmd(msg):
        state["problem"] = load(msg["dir"], [int(w) for w in msg["widths"]], msg["activation"])
        return {"size": sum(p.numel() for p in state["problem"].params)}

    def hvp_cmd(msg):
        hv = state["problem"].hvp()
        np.save(os.path.join(msg["out"], "torch_hvp_f32.npy"), torch.cat([h.reshape(-1) for h in hv]).detach().cpu().numpy())
        return {"ok": True}

    def time_cmd(msg):
        p = state["problem"]
        fn = {"grad": p.grad, "hvp": p.hvp}[msg["what"]]
        return {"seconds": timed(fn, int(msg.get("reps", 1)))}

    def lanczos_cmd(msg):
        apply, n = flat_hvp(state["problem"])
        g = torch.Generator(device=DEV).manual_seed(int(msg.get("seed", 0)))
        start = torch.randn(n, device=DEV, generator=g)
        sync()
        t = time.perf_counter()
        a, b = lanczos(apply, n, int(msg["steps"]), start)
        w, _ = tridiag_eig(a, b)
        sync()
        return {"seconds": time.perf_counter() - t, "eigenvalues": sorted(w.tolist(), reverse=True)[: int(msg["k"])]}

    def slq_cmd(msg):
        apply, n = flat_hvp(state["problem"])
        g = torch.Generator(device=DEV).manual_seed(int(msg.get("seed", 0)))
        sync()
        t = time.perf_counter()
        traces = []
        for _ in range(int(msg["probes"])):
            v = torch.randint(0, 2, (n,), device=DEV, generator=g).float() * 2 - 1
            a, b = lanczos(apply, n, int(msg["steps"]), v)
            w, U = tridiag_eig(a, b)
            traces.append(n * float((U[0] ** 2 * w).sum()))
        sync()
        return {"seconds": time.perf_counter() - t, "trace": float(np.mean(traces))}

    jsonline.serve({
        "info": lambda msg: info(),
        "gemm": lambda msg: {"gflops": gemm(int(msg["n"]), int(msg.get("reps", 1)))},
        "load": load_cmd,
        "hvp": hvp_cmd,
        "time": time_cmd,
        "resnet": lambda msg: resnet_hvp(int(msg["batch"]), int(msg.get("reps", 1))),
        "lanczos": lanczos_cmd,
        "slq": slq_cmd,
    })


if __name__ == "__main__":
    serve()
