"""scikit-learn's ``MLPRegressor``: the same layers in NumPy, squared loss."""

import contextlib
import warnings

from ..harness import perf, require
from . import Contender, DenseFit


def mlp_for_epochs(width, depth, batch_size, epochs):
    """MLPRegressor that runs exactly ``epochs`` epochs: no stopping on tol."""
    from sklearn.neural_network import MLPRegressor

    return MLPRegressor(
        hidden_layer_sizes=(width,) * depth,
        batch_size=batch_size,
        max_iter=epochs,
        early_stopping=False,
        tol=0,
        n_iter_no_change=epochs,
        random_state=0,
    )


class MLPFit(DenseFit):
    """A new MLPRegressor per fit, on the scaled arrays; no validation loss."""

    def __call__(self):
        d = self.d
        est = mlp_for_epochs(self.width, self.depth, self.batch_size, self.epochs)
        with CONTENDER.quiet():
            t0 = perf()
            est.fit(d.Xs_tr, d.ys_tr)
            seconds = perf() - t0
        self.model = est
        pred = d.unscale_y(est.predict(d.Xs_va))
        return self.result(seconds, int(est.n_iter_), pred, validates=False)


class MLP(Contender):
    key = "mlp"
    name = "sklearn MLPRegressor"
    short = "MLPRegressor"
    note = "squared loss (not MAE), L2 alpha=1e-4, no validation loss [a]"
    search_note = (
        "TransformedTargetRegressor(Pipeline(MinMaxScaler, MLPRegressor), MinMaxScaler); "
        "early_stopping=True, n_iter_no_change=10, validation_fraction=0.2, tol=1e-4 on "
        "validation R^2, squared loss"
    )
    fit_class = MLPFit

    def available(self):
        return require("sklearn", "scikit-learn")

    @contextlib.contextmanager
    def quiet(self):
        """Without ConvergenceWarning: the fits stop on max_iter on purpose."""
        from sklearn.exceptions import ConvergenceWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            yield

    def search(self, grid, cv, epochs):
        self.available()
        from sklearn.compose import TransformedTargetRegressor
        from sklearn.model_selection import GridSearchCV
        from sklearn.neural_network import MLPRegressor
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import MinMaxScaler

        mlp = MLPRegressor(
            early_stopping=True,
            n_iter_no_change=10,
            max_iter=epochs,
            validation_fraction=0.2,
            random_state=0,
        )
        pipe = Pipeline([("scale", MinMaxScaler()), ("mlp", mlp)])
        ttr = TransformedTargetRegressor(regressor=pipe, transformer=MinMaxScaler())
        pgrid = {
            "regressor__mlp__hidden_layer_sizes": [
                (w,) * dep for w in grid["width"] for dep in grid["depth"]
            ],
            "regressor__mlp__batch_size": grid["batch_size"],
        }

        def simplify(p):
            h = p["regressor__mlp__hidden_layer_sizes"]
            return dict(width=h[0], depth=len(h), batch_size=p["regressor__mlp__batch_size"])

        search = GridSearchCV(ttr, pgrid, cv=cv, scoring="neg_mean_absolute_error", n_jobs=1)
        return search, simplify

    def estimator(self, width, depth, batch_size, epochs):
        return mlp_for_epochs(width, depth, batch_size, epochs)

    def predict_calls(self, model):
        return [("sklearn MLPRegressor predict", lambda x: model.predict(x), False)]


CONTENDER = MLP()
