"""scikeras's ``KerasRegressor`` around the seed's Keras model."""

from ..harness import perf, require
from . import Contender, DenseFit
from .keras import build_keras_model


class ScikerasFit(DenseFit):
    """Validation via ``fit__validation_data``; re-fits use ``warm_start=True``."""

    def __call__(self):
        (keras, wrappers), d = self.lib, self.d
        if self.model is None:
            keras.utils.set_random_seed(0)

            def build(width, depth, meta):
                return build_keras_model(
                    keras, meta["n_features_in_"], width, depth, compiled=False
                )

            est = wrappers.KerasRegressor(
                model=build,
                model__width=self.width,
                model__depth=self.depth,
                optimizer="adam",
                loss="mae",
                batch_size=self.batch_size,
                epochs=self.epochs,
                verbose=0,
                fit__validation_data=(d.Xs_va, d.ys_va),
            )
        else:
            est = self.model
            est.set_params(warm_start=True)
        t0 = perf()
        est.fit(d.Xs_tr, d.ys_tr)
        seconds = perf() - t0
        self.model = est
        pred = d.unscale_y(est.predict(d.Xs_va))
        return self.result(
            seconds, len(est.history_["loss"]), pred, validates="val_loss" in est.history_
        )


class Scikeras(Contender):
    key = "scikeras"
    name = "scikeras KerasRegressor"
    short = "scikeras"
    note = (
        "validation via `fit__validation_data=(X_va, y_va)`; "
        "timed fit uses warm_start=True to keep the compiled model"
    )
    search_note = (
        "TransformedTargetRegressor(Pipeline(MinMaxScaler, KerasRegressor), MinMaxScaler); "
        "EarlyStopping(patience=10, min_delta=0.001, restore_best_weights=True), "
        "validation_split=0.2 (last 20% of each training fold)"
    )
    fit_class = ScikerasFit

    def available(self):
        return require("keras"), require("scikeras.wrappers", "scikeras")

    def search(self, grid, cv, epochs):
        keras, wrappers = self.available()
        from sklearn.compose import TransformedTargetRegressor
        from sklearn.model_selection import GridSearchCV
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import MinMaxScaler

        def build(width, depth, meta):
            return build_keras_model(keras, meta["n_features_in_"], width, depth, compiled=False)

        keras.utils.set_random_seed(0)
        reg = wrappers.KerasRegressor(
            model=build,
            model__width=16,
            model__depth=1,
            optimizer="adam",
            loss="mae",
            batch_size=256,
            epochs=epochs,
            verbose=0,
            validation_split=0.2,
            callbacks=[
                keras.callbacks.EarlyStopping(
                    monitor="val_loss", patience=10, min_delta=0.001, restore_best_weights=True
                )
            ],
        )
        pipe = Pipeline([("scale", MinMaxScaler()), ("keras", reg)])
        ttr = TransformedTargetRegressor(regressor=pipe, transformer=MinMaxScaler())
        prefix = "regressor__keras__"
        pgrid = {
            prefix + "model__width": grid["width"],
            prefix + "model__depth": grid["depth"],
            prefix + "batch_size": grid["batch_size"],
        }

        def simplify(p):
            return dict(
                width=p[prefix + "model__width"],
                depth=p[prefix + "model__depth"],
                batch_size=p[prefix + "batch_size"],
            )

        search = GridSearchCV(ttr, pgrid, cv=cv, scoring="neg_mean_absolute_error", n_jobs=1)
        return search, simplify


CONTENDER = Scikeras()
