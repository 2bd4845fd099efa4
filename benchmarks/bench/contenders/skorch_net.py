"""skorch's ``NeuralNetRegressor``: PyTorch with scikit-learn's API."""

from ..harness import perf
from . import DenseFit, IsolatedContender
from .torch_loop import torch_network


def skorch_regressor(width, depth, batch_size, epochs, n_features, train_split, callbacks=()):
    import skorch
    import torch

    class Network(torch.nn.Module):
        def __init__(self, width=width, depth=depth):
            super().__init__()
            self.layers = torch_network(torch, n_features, width, depth)

        def forward(self, x):
            return self.layers(x)

    return skorch.NeuralNetRegressor(
        Network, criterion=torch.nn.L1Loss, optimizer=torch.optim.Adam, lr=1e-3,
        batch_size=batch_size, max_epochs=epochs, train_split=train_split,
        iterator_train__shuffle=True, callbacks=list(callbacks), verbose=0,
    )  # fmt: skip


class SkorchFit(DenseFit):
    """A new NeuralNetRegressor per fit; the validation part as skorch's predefined split."""

    def __call__(self):
        import torch
        from skorch.dataset import Dataset
        from skorch.helper import predefined_split

        d = self.d
        torch.manual_seed(0)
        valid = Dataset(d.Xs_va, d.ys_va[:, None])
        net = skorch_regressor(
            self.width, self.depth, self.batch_size, self.epochs, d.n_features,
            predefined_split(valid),
        )  # fmt: skip
        t0 = perf()
        net.fit(d.Xs_tr, d.ys_tr[:, None])
        seconds = perf() - t0
        pred = d.unscale_y(net.predict(d.Xs_va))
        epochs = len(net.history)
        return self.result(seconds, epochs, pred, validates="valid_loss" in net.history[-1])


class Skorch(IsolatedContender):
    key = "skorch_net"
    name = "skorch NeuralNetRegressor"
    short = "skorch"
    note = "L1Loss, Adam, predefined validation split; new net per fit (own process)"
    local_fit_class = SkorchFit
    requires = ("skorch", "torch")


CONTENDER = Skorch()
