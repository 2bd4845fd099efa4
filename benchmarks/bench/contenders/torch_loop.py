"""A plain PyTorch training loop with fused Adam: what a PyTorch user writes by hand."""

import numpy as np

from ..harness import perf
from . import DenseFit, IsolatedContender


def torch_network(torch, n_features, width, depth):
    """The seed's network in PyTorch: Linear + ReLU layers, Linear(1)."""
    layers, fan_in = [], n_features
    for _ in range(depth):
        layers += [torch.nn.Linear(fan_in, width), torch.nn.ReLU()]
        fan_in = width
    return torch.nn.Sequential(*layers, torch.nn.Linear(fan_in, 1))


class TorchFit(DenseFit):
    """The first fit builds the network and optimizer; later fits train them on.

    Each epoch: a fresh permutation, mini-batches by indexing the tensors
    (no DataLoader), ``zero_grad(set_to_none=True)``, L1 loss, fused Adam;
    then the validation loss under ``no_grad``.
    """

    def __call__(self):
        torch, d = self.lib, self.d
        t0 = perf()
        if self.model is None:
            torch.manual_seed(0)
            self.model = torch_network(torch, d.n_features, self.width, self.depth)
            self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3, fused=True)
            self.tensors = [
                torch.from_numpy(np.ascontiguousarray(a))
                for a in (d.Xs_tr, d.ys_tr[:, None], d.Xs_va, d.ys_va[:, None])
            ]
        model, optimizer = self.model, self.optimizer
        x, y, x_val, y_val = self.tensors
        loss_fn = torch.nn.functional.l1_loss
        n, batch = len(x), self.batch_size
        for _ in range(self.epochs):
            model.train()
            order = torch.randperm(n)
            for start in range(0, n, batch):
                idx = order[start : start + batch]
                optimizer.zero_grad(set_to_none=True)
                loss = loss_fn(model(x[idx]), y[idx])
                loss.backward()
                optimizer.step()
            model.eval()
            with torch.no_grad():
                loss_fn(model(x_val), y_val).item()
        seconds = perf() - t0
        with torch.no_grad():
            pred = d.unscale_y(model(x_val).numpy())
        return self.result(seconds, self.epochs, pred, validates=True)


class TorchLoop(IsolatedContender):
    key = "torch_loop"
    name = "PyTorch loop, fused Adam"
    short = "PyTorch"
    note = (
        "eager loop, randperm batches, L1 loss, Adam(fused=True); timed fit trains on (own process)"
    )
    local_fit_class = TorchFit
    requires = ("torch",)


CONTENDER = TorchLoop()
