#!/usr/bin/env python3
"""Peer for bench/conv.ts: PyTorch (CPU) gradient and Hessian-vector product of the same
convolutional networks, data and weights as curvlab's.

Models (state_dict names equal curvlab's parameter layout, so weights load by name):
  lenet:   Sequential(Conv2d(1,6,5), ReLU(), MaxPool2d(2), Conv2d(6,16,5), ReLU(), MaxPool2d(2),
           Flatten(), Linear(256,10))
  resnet20: the CIFAR ResNet of He et al. 2016: conv1 3x3 16 + BN, 3 stages x 3 BasicBlocks
           (16/32/64 channels, stride 2 at stage changes, 1x1 conv + BN downsample there), global
           average pool, fc 64 -> 10; PyHessian's models/resnet.py names. BatchNorm: batch statistics (train mode) or
           the running ones (eval mode), as "load" asks.
Loss: CrossEntropyLoss (mean). HVP: double backward.

Commands (one JSON per stdin line, bench/peers/jsonline.py):
  {"cmd": "threads", "n": N}
  {"cmd": "load", "dir": D, "model": "lenet"|"resnet20", "names": [...], "shapes": [[...], ...],
   "mode": "train"|"eval"}  (BatchNorm: batch statistics, or the running ones; default train)
        D/x.npy f4 [n, C, H, W], D/y.npy i4, D/theta.npy f4 (layout order), D/v.npy f4
  {"cmd": "compute", "out": D}  -> D/torch_{grad,hvp}_f32.npy (layout order)
  {"cmd": "time", "what": "grad"|"hvp", "reps": R} -> {"seconds": [...]}
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


def lenet():
    return nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(256, 10))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNet(nn.Module):
    def __init__(self, blocks=3, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        cin, layers = 16, []
        for i, cout in enumerate((16, 32, 64)):
            stage = []
            for b in range(blocks):
                stage.append(BasicBlock(cin, cout, 2 if (i > 0 and b == 0) else 1))
                cin = cout
            layers.append(nn.Sequential(*stage))
        self.layer1, self.layer2, self.layer3 = layers
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        return self.fc(out.mean((2, 3)))


MODELS = {"lenet": lenet, "resnet20": lambda: ResNet(3)}


class Problem:
    def __init__(self, d, model, names, shapes, mode="train"):
        torch.manual_seed(0)
        self.net = MODELS[model]().train(mode != "eval")
        params = dict(self.net.named_parameters())
        theta = torch.from_numpy(np.load(os.path.join(d, "theta.npy")))
        v = torch.from_numpy(np.load(os.path.join(d, "v.npy")))
        missing = [n for n in names if n not in params]
        extra = [n for n in params if n not in names]
        if missing or extra:
            raise ValueError(f"state_dict names differ: curvlab-only {missing[:5]}, torch-only {extra[:5]}")
        self.params, self.v, k = [], [], 0
        with torch.no_grad():
            for name, shape in zip(names, shapes):
                size = int(np.prod(shape))
                p = params[name]
                if list(p.shape) != list(shape):
                    raise ValueError(f"{name}: torch shape {list(p.shape)}, curvlab {shape}")
                p.copy_(theta[k:k + size].reshape(shape))
                self.params.append(p)
                self.v.append(v[k:k + size].reshape(shape).clone())
                k += size
        if k != theta.numel():
            raise ValueError(f"theta has {theta.numel()} values, the layout {k}")
        self.x = torch.from_numpy(np.load(os.path.join(d, "x.npy")))
        self.y = torch.from_numpy(np.load(os.path.join(d, "y.npy")).astype(np.int64))

    def loss(self):
        return F.cross_entropy(self.net(self.x), self.y)

    def grad(self):
        return torch.autograd.grad(self.loss(), self.params)

    def hvp(self):
        g = torch.autograd.grad(self.loss(), self.params, create_graph=True)
        gv = sum((gi * vi).sum() for gi, vi in zip(g, self.v))
        return torch.autograd.grad(gv, self.params)


def flat(ts):
    return torch.cat([t.reshape(-1) for t in ts]).detach().numpy()


def serve():
    state = {}

    def threads(msg):
        torch.set_num_threads(int(msg["n"]))
        return {"threads": torch.get_num_threads(), "torch": torch.__version__}

    def load(msg):
        state["p"] = Problem(msg["dir"], msg["model"], msg["names"], msg["shapes"], msg.get("mode", "train"))
        return {"ok": True}

    def compute(msg):
        p = state["p"]
        np.save(os.path.join(msg["out"], "torch_grad_f32.npy"), flat(p.grad()))
        np.save(os.path.join(msg["out"], "torch_hvp_f32.npy"), flat(p.hvp()))
        return {"ok": True}

    def time_cmd(msg):
        fn = {"grad": state["p"].grad, "hvp": state["p"].hvp}[msg["what"]]
        out = []
        for _ in range(int(msg.get("reps", 1))):
            t = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t)
        return {"seconds": out}

    jsonline.serve({"threads": threads, "load": load, "compute": compute, "time": time_cmd})


if __name__ == "__main__":
    serve()
