#!/usr/bin/env python3
"""Peer for bench/pyhessian.ts: PyHessian's own code (Yao, Gholami, Keutzer, Mahoney 2020), run as
its example script runs it, on the same weights and images as curvlab.

PyHessian is not vendored: give a checkout of https://github.com/amirgholami/PyHessian with
--pyhessian DIR (its `pyhessian/` package, `models/resnet.py` and, for the trained ResNet-20,
`checkpoints/net.pkl`). What it runs is example_pyhessian_analysis.py's sequence on CPU:
`hessian(model.eval(), CrossEntropyLoss(), dataloader=batches, cuda=False)`, then
`.eigenvalues(top_n=K)` (power iteration, maxIter=100, tol=1e-3), `.trace()` (Hutchinson,
maxIter=100, tol=1e-3) and `.density()` (SLQ, iter=100, n_v=1), each timed as a whole.

Images: CIFAR-10 binary batches in DIR (data_batch_1.bin ..., 3,073 bytes a record), the first N
records, scaled to [0, 1] and normalized with PyHessian's transform (mean (0.4914, 0.4822,
0.4465), std (0.2023, 0.1994, 0.2010)), cut in batches of --batch-size, in order (PyHessian's
example shuffles; the Hessian of the mean loss over the same N images does not depend on order).

  --export-weights FILE   also write the checkpoint as safetensors (PyTorch state_dict names,
                          "module." prefix of DataParallel removed, buffers included) and exit
  --export-onnx FILE      also write the network as ONNX (torch.onnx.export of the model in eval
                          mode with training=PRESERVE, so BatchNormalization stays a node with its
                          running statistics and the weights keep their names; batch axis dynamic)
                          and exit
  --jobs top,trace,density   which jobs (default all three); --time-hvp R times R single
                          products instead (seconds per product)
Prints one JSON object on stdout.
"""
import argparse
import json
import os
import struct
import sys
import time

import numpy as np
import torch

MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2023, 0.1994, 0.2010)
RECORD = 3073


def read_cifar(folder, n, split):
    names = ["test_batch.bin"] if split == "test" else [f"data_batch_{i}.bin" for i in range(1, 6)]
    xs, ys, have = [], [], 0
    for name in names:
        if have >= n:
            break
        raw = np.fromfile(os.path.join(folder, name), dtype=np.uint8).reshape(-1, RECORD)[: n - have]
        ys.append(raw[:, 0].astype(np.int64))
        xs.append(raw[:, 1:].reshape(-1, 3, 32, 32))
        have += raw.shape[0]
    x = torch.from_numpy(np.concatenate(xs)).float().div(255)
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    return (x - mean) / std, torch.from_numpy(np.concatenate(ys))


def load_state(path):
    sd = torch.load(path, map_location="cpu")
    return {k[len("module."):] if k.startswith("module.") else k: v for k, v in sd.items()}


def write_safetensors(path, state):
    dtypes = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}
    header, blobs, offset = {}, [], 0
    for name, t in state.items():
        data = t.detach().contiguous().numpy().tobytes()
        header[name] = {"dtype": dtypes[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pyhessian", required=True)
    ap.add_argument("--checkpoint", default=None, help="default: PYHESSIAN/checkpoints/net.pkl")
    ap.add_argument("--export-weights", default=None)
    ap.add_argument("--export-onnx", default=None)
    ap.add_argument("--data", default=None, help="folder of CIFAR-10 binary batches")
    ap.add_argument("--split", default="train")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--batch-size", type=int, default=200)
    ap.add_argument("--top", type=int, default=1)
    ap.add_argument("--jobs", default="top,trace,density")
    ap.add_argument("--time-hvp", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    sys.path.insert(0, os.path.abspath(args.pyhessian))
    from models.resnet import resnet  # noqa: E402  (PyHessian's file)
    from pyhessian import hessian  # noqa: E402

    checkpoint = args.checkpoint or os.path.join(args.pyhessian, "checkpoints", "net.pkl")
    state = load_state(checkpoint)
    if args.export_weights:
        write_safetensors(args.export_weights, state)
        print(json.dumps({"weights": args.export_weights, "tensors": len(state)}))
        return

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model = resnet(num_classes=10, depth=20)
    model.load_state_dict(state)
    model.eval()
    if args.export_onnx:
        tmp = args.export_onnx + ".tmp"
        torch.onnx.export(
            model, torch.zeros(2, 3, 32, 32), tmp, input_names=["input"], output_names=["logits"], opset_version=13,
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, training=torch.onnx.TrainingMode.PRESERVE,
        )
        os.replace(tmp, args.export_onnx)
        print(json.dumps({"onnx": args.export_onnx}))
        return
    x, y = read_cifar(args.data, args.n, args.split)
    batches = [(x[i : i + args.batch_size], y[i : i + args.batch_size]) for i in range(0, len(y), args.batch_size)]
    criterion = torch.nn.CrossEntropyLoss()
    out = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "n": int(len(y)),
        "batch_size": args.batch_size,
        "parameters": int(sum(p.numel() for p in model.parameters())),
    }

    t0 = time.perf_counter()
    comp = hessian(model, criterion, dataloader=batches, cuda=False)
    out["setup_seconds"] = time.perf_counter() - t0
    counter = {"n": 0}
    product = comp.dataloader_hv_product

    def counted(v):
        counter["n"] += 1
        return product(v)

    comp.dataloader_hv_product = counted

    if args.time_hvp:
        v = [torch.randn_like(p) for p in comp.params]
        seconds = []
        for _ in range(args.time_hvp):
            t = time.perf_counter()
            comp.dataloader_hv_product(v)
            seconds.append(time.perf_counter() - t)
        out["hvp_seconds"] = seconds
        print(json.dumps(out))
        return

    jobs = args.jobs.split(",")
    if "top" in jobs:
        counter["n"] = 0
        t = time.perf_counter()
        values, _ = comp.eigenvalues(top_n=args.top)
        out["top"] = {"eigenvalues": [float(v) for v in values], "seconds": time.perf_counter() - t, "hvps": counter["n"]}
    if "trace" in jobs:
        counter["n"] = 0
        t = time.perf_counter()
        samples = comp.trace()
        out["trace"] = {
            "samples": [float(s) for s in samples],
            "estimate": float(np.mean(samples)),
            "standard_error": float(np.std(samples, ddof=1) / np.sqrt(len(samples))) if len(samples) > 1 else None,
            "seconds": time.perf_counter() - t,
            "hvps": counter["n"],
        }
    if "density" in jobs:
        counter["n"] = 0
        t = time.perf_counter()
        eigen, weight = comp.density()
        out["density"] = {
            "nodes": [float(v) for v in eigen[0]],
            "weights": [float(w) for w in weight[0]],
            "seconds": time.perf_counter() - t,
            "hvps": counter["n"],
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
