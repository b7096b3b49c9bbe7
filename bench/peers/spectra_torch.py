#!/usr/bin/env python3
"""Peer for bench/spectra.ts: the matrix-free Hessian spectra jobs in PyTorch (CPU), on the same
MLP, loss, data and weights as curvlab's.

The model and the flat parameter layout are those of bench/peers/hvp_torch.py (whose helpers this
file reuses): Sequential(Linear, ACT, ..., Linear) with cross-entropy (mean over the batch),
parameters in state_dict order.

Hessian-vector products are formed as PyHessian forms them for one batch (Yao, Gholami, Keutzer,
Mahoney, "PyHessian: Neural Networks Through the Lens of the Hessian", 2020; pyhessian/hessian.py
and utils.py): the gradient is computed ONCE with create_graph=True, and every product is
autograd.grad(grads, params, grad_outputs=v, retain_graph=True), i.e. one more backward pass
through the retained graph. Building that graph is part of every job's time (PyHessian does it in
its constructor), as curvlab's operator construction is part of its.

Jobs (each timed in full, graph included):
- "topk": PyHessian's `hessian.eigenvalues(maxIter, tol, top_n)`, rewritten here on the same
  per-parameter lists: for each pair, a Gaussian start normalized; repeat: orthonormalize against
  the vectors found (modified Gram-Schmidt, one pass), normalize (v / (||v|| + 1e-6)), Hv,
  Rayleigh quotient, v = Hv normalized; stop when |new - old| / (|old| + 1e-6) < tol or after
  maxIter products. As PyHessian, the value returned is the last estimate BEFORE the one that met
  the test (the one that met it is returned only when maxIter is reached).
- "slq": stochastic Lanczos quadrature, P Rademacher probes (unit length) x M steps of Lanczos with
  full reorthogonalization (three-term step, then one classical Gram-Schmidt pass against the
  whole basis, as curvlab's lanczos-tridiagonal.ts), on flat vectors; Gauss nodes and weights from
  torch.linalg.eigh of T in float64; tr(H) ~ n mean_j sum_i w_ij theta_ij.
- "hutchpp": Hutch++ (Meyer, Musco, Musco & Woodruff 2021) with m products: S with k = m // 3
  Rademacher columns, Q = qr(H S) (reduced), tr(Q^T H Q) (k products), plus Hutchinson with
  g = m - 2k Rademacher probes on (I - QQ^T) H (I - QQ^T).
- "lanczos64": a float64 reference: M steps of Lanczos with full reorthogonalization (two
  Gram-Schmidt passes per step) from a seeded Gaussian start; the k largest Ritz values and
  their residual estimates |beta_M s_Mi|.

A server, one JSON command per stdin line, one JSON answer per stdout line:
  {"cmd": "info"} | {"cmd": "threads", "n": N}
  {"cmd": "load", "dir": D, "widths": [...], "activation": "tanh"|"relu"}
        reads D/x.npy [n, W0] f4, D/y.npy [n] i4, D/theta.npy f4
  {"cmd": "topk", "k": K, "maxIter": I, "tol": T, "seed": S}
        -> {"seconds", "eigenvalues" (order found), "iterations", "matvecs"}
  {"cmd": "slq", "probes": P, "steps": M, "seed": S}  -> {"seconds", "matvecs", "trace", "trace_se", "min", "max"}
  {"cmd": "hutchpp", "matvecs": M, "seed": S}          -> {"seconds", "matvecs", "trace", "trace_se"}
  {"cmd": "lanczos64", "steps": M, "k": K, "seed": S}  -> {"seconds", "eigenvalues" (descending), "residuals"}
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
from hvp_torch import info, split  # noqa: E402


class Problem:
    def __init__(self, d, widths, activation, dtype):
        self.x = torch.from_numpy(np.load(os.path.join(d, "x.npy"))).to(dtype)
        self.y = torch.from_numpy(np.load(os.path.join(d, "y.npy")).astype(np.int64))
        theta = torch.from_numpy(np.load(os.path.join(d, "theta.npy"))).to(dtype)
        if self.x.shape[1] != widths[0]:
            raise ValueError(f"x has {self.x.shape[1]} features, widths[0] is {widths[0]}")
        self.widths = widths
        self.act = {"tanh": torch.tanh, "relu": torch.relu}[activation]
        self.params = [p.requires_grad_(True) for p in split(theta, widths)]
        self.size = sum(p.numel() for p in self.params)
        self.dtype = dtype

    def loss(self):
        h = self.x
        n = len(self.widths) - 1
        for l in range(n):
            h = F.linear(h, self.params[2 * l], self.params[2 * l + 1])
            if l + 1 < n:
                h = self.act(h)
        return F.cross_entropy(h, self.y)


class Hessian:
    """PyHessian's single-batch set-up: the gradient with its graph, kept for every product."""

    def __init__(self, problem):
        self.params = problem.params
        self.grads = torch.autograd.grad(problem.loss(), self.params, create_graph=True)
        self.matvecs = 0

    def hv(self, v):
        """H v for v a list shaped like the parameters."""
        self.matvecs += 1
        return torch.autograd.grad(self.grads, self.params, grad_outputs=v, retain_graph=True)

    def hv_flat(self, v):
        shaped = [c.view_as(p) for c, p in zip(torch.split(v, [p.numel() for p in self.params]), self.params)]
        return torch.cat([h.reshape(-1) for h in self.hv(shaped)])


# --- PyHessian's list helpers, restated -------------------------------------------------------


def group_product(xs, ys):
    return sum(torch.sum(x * y) for x, y in zip(xs, ys))


def group_add(xs, ys, alpha):
    return [x + y * alpha for x, y in zip(xs, ys)]


def normalization(v):
    s = torch.sqrt(group_product(v, v)).item()
    return [x / (s + 1e-6) for x in v]


def orthnormal(w, found):
    for v in found:
        w = group_add(w, v, -group_product(w, v))
    return normalization(w)


def topk(problem, k, max_iter, tol, seed):
    torch.manual_seed(seed)
    t = time.perf_counter()
    H = Hessian(problem)
    values, vectors, iterations = [], [], []
    for _ in range(k):
        eigenvalue = None
        v = normalization([torch.randn(p.size(), dtype=problem.dtype) for p in problem.params])
        its = 0
        for _ in range(max_iter):
            v = orthnormal(v, vectors)
            Hv = H.hv(v)
            its += 1
            estimate = group_product(Hv, v).item()
            v = normalization([h.detach() for h in Hv])
            if eigenvalue is None:
                eigenvalue = estimate
            elif abs(eigenvalue - estimate) / (abs(eigenvalue) + 1e-6) < tol:
                break
            else:
                eigenvalue = estimate
        values.append(eigenvalue)
        vectors.append(v)
        iterations.append(its)
    seconds = time.perf_counter() - t
    return {"seconds": seconds, "eigenvalues": values, "iterations": iterations, "matvecs": H.matvecs}


# --- Lanczos with full reorthogonalization (flat vectors) -------------------------------------


def lanczos(H, q, steps, passes=1):
    """m = steps Lanczos steps from the unit vector q: (alpha, beta, beta_last), basis kept in V."""
    n = q.numel()
    V = torch.zeros(steps, n, dtype=q.dtype)
    alpha, beta = [], []
    prev = None
    b_last = 0.0
    for j in range(steps):
        V[j] = q
        w = H.hv_flat(q)
        a = torch.dot(q, w)
        w = w - a * q
        if prev is not None:
            w = w - beta[-1] * prev
        for _ in range(passes):
            c = V[: j + 1] @ w
            w = w - V[: j + 1].t() @ c
            a = a + c[j]
        b = torch.linalg.norm(w).item()
        alpha.append(a.item())
        b_last = b
        if j == steps - 1 or b == 0.0:
            break
        beta.append(b)
        prev = q
        q = w / b
    return alpha, beta, b_last


def tridiagonal(alpha, beta):
    T = torch.diag(torch.tensor(alpha, dtype=torch.float64))
    if beta:
        off = torch.tensor(beta, dtype=torch.float64)
        T = T + torch.diag(off, 1) + torch.diag(off, -1)
    return T


def rademacher(n, gen, dtype):
    return (torch.randint(0, 2, (n,), generator=gen) * 2 - 1).to(dtype)


def mean_se(samples):
    s = np.array(samples, dtype=np.float64)
    return float(s.mean()), (float(s.std(ddof=1) / np.sqrt(len(s))) if len(s) > 1 else None)


def slq(problem, probes, steps, seed):
    gen = torch.Generator().manual_seed(seed)
    t = time.perf_counter()
    H = Hessian(problem)
    n = problem.size
    traces, lo, hi = [], float("inf"), float("-inf")
    for _ in range(probes):
        v = rademacher(n, gen, problem.dtype)
        v = v / torch.linalg.norm(v)
        alpha, beta, _ = lanczos(H, v, min(steps, n))
        nodes, U = torch.linalg.eigh(tridiagonal(alpha, beta))
        weights = U[0] ** 2
        traces.append(n * float((weights * nodes).sum()))
        lo, hi = min(lo, float(nodes[0])), max(hi, float(nodes[-1]))
    seconds = time.perf_counter() - t
    trace, se = mean_se(traces)
    return {"seconds": seconds, "matvecs": H.matvecs, "trace": trace, "trace_se": se, "min": lo, "max": hi}


def hutchpp(problem, m, seed):
    gen = torch.Generator().manual_seed(seed)
    t = time.perf_counter()
    H = Hessian(problem)
    n = problem.size
    k = m // 3
    g = m - 2 * k
    S = (torch.randint(0, 2, (n, k), generator=gen) * 2 - 1).to(problem.dtype)
    Y = torch.stack([H.hv_flat(S[:, i].contiguous()) for i in range(k)], 1)
    Q, _ = torch.linalg.qr(Y)
    deflated = sum(float(torch.dot(Q[:, i], H.hv_flat(Q[:, i].contiguous()))) for i in range(k))
    samples = []
    for _ in range(g):
        z = rademacher(n, gen, problem.dtype)
        z = z - Q @ (Q.t() @ z)
        samples.append(float(torch.dot(z, H.hv_flat(z))))
    seconds = time.perf_counter() - t
    mean, se = mean_se(samples)
    return {"seconds": seconds, "matvecs": H.matvecs, "trace": deflated + mean, "trace_se": se}


def lanczos64(problem, steps, k, seed):
    gen = torch.Generator().manual_seed(seed)
    t = time.perf_counter()
    H = Hessian(problem)
    q = torch.randn(problem.size, generator=gen, dtype=torch.float64).to(problem.dtype)
    q = q / torch.linalg.norm(q)
    alpha, beta, b_last = lanczos(H, q, min(steps, problem.size), passes=2)
    theta, U = torch.linalg.eigh(tridiagonal(alpha, beta))
    order = torch.argsort(theta, descending=True)[:k]
    seconds = time.perf_counter() - t
    return {
        "seconds": seconds,
        "eigenvalues": [float(theta[i]) for i in order],
        "residuals": [abs(b_last * float(U[-1, i])) for i in order],
        "steps": len(alpha),
    }


def serve():
    torch.set_grad_enabled(True)
    state = {"spec": None}
    cache = {}

    def problem(dtype):
        if dtype not in cache:
            cache[dtype] = Problem(*state["spec"], dtype)
        return cache[dtype]

    def threads(msg):
        torch.set_num_threads(int(msg["n"]))
        return {"threads": torch.get_num_threads()}

    def load_cmd(msg):
        state["spec"] = (msg["dir"], [int(w) for w in msg["widths"]], msg["activation"])
        cache.clear()
        return {"ok": True, "size": problem(torch.float32).size}

    f32, f64 = torch.float32, torch.float64
    jsonline.serve({
        "info": lambda msg: info(),
        "threads": threads,
        "load": load_cmd,
        "topk": lambda msg: topk(problem(f32), int(msg["k"]), int(msg["maxIter"]), float(msg["tol"]), int(msg["seed"])),
        "slq": lambda msg: slq(problem(f32), int(msg["probes"]), int(msg["steps"]), int(msg["seed"])),
        "hutchpp": lambda msg: hutchpp(problem(f32), int(msg["matvecs"]), int(msg["seed"])),
        "lanczos64": lambda msg: lanczos64(problem(f64), int(msg["steps"]), int(msg["k"]), int(msg["seed"])),
    })


if __name__ == "__main__":
    serve()
