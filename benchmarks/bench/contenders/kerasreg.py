"""kerasreg's DenseRegressor: the subject; every ratio in the report is relative to it."""

from ..harness import perf, require
from . import Contender, DenseFit


class KerasregFit(DenseFit):
    """A new DenseRegressor per fit, on raw X and y (it scales them itself)."""

    def __call__(self):
        d = self.d
        est = self.lib.DenseRegressor(
            width=self.width,
            depth=self.depth,
            batch_size=self.batch_size,
            epochs=self.epochs,
            early_stopping=False,
            random_state=0,
        )
        t0 = perf()
        est.fit(d.X_tr, d.y_tr, validation_data=(d.X_va, d.y_va))
        seconds = perf() - t0
        self.model = est
        epochs = int(getattr(est, "n_iter_", self.epochs))
        return self.result(seconds, epochs, est.predict(d.X_va), validates=True)


class Kerasreg(Contender):
    key = "kerasreg"
    name = "kerasreg DenseRegressor"
    short = "kerasreg"
    note = "new DenseRegressor per fit; scales X and y itself"
    search_note = (
        "patience=10, min_delta=0.001, restore_best_weights, validation_fraction=0.2 (defaults)"
    )
    fit_class = KerasregFit
    lazy_import = "tensorflow"

    def available(self):
        return require("kerasreg")

    def search(self, grid, cv, epochs):
        kerasreg = self.available()
        from sklearn.model_selection import GridSearchCV

        est = kerasreg.DenseRegressor(patience=10, epochs=epochs, random_state=0)
        search = GridSearchCV(est, grid, cv=cv, scoring="neg_mean_absolute_error", n_jobs=1)
        return search, lambda p: p

    def estimator(self, width, depth, batch_size, epochs):
        return self.available().DenseRegressor(
            width=width,
            depth=depth,
            batch_size=batch_size,
            epochs=epochs,
            early_stopping=False,
            random_state=0,
        )

    def predict_calls(self, model):
        return [("kerasreg predict", lambda x: model.predict(x), True)]


CONTENDER = Kerasreg()
