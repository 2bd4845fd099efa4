"""The kerasreg command line, run in-process through ``main``."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

from kerasreg import load, read_metadata
from kerasreg.cli import main

REPO = Path(__file__).resolve().parents[1]
TINY = ["--width", "8", "--depth", "1", "--batch-size", "16", "--epochs", "5"]


@pytest.fixture(scope="module")
def csv(tmp_path_factory):
    """60 rows, 3 features and a target ``y``."""
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(60, 3))
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(y=X @ [1.0, 2.0, 3.0])
    path = tmp_path_factory.mktemp("data") / "data.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def model(csv, tmp_path_factory):
    out = tmp_path_factory.mktemp("model") / "model.kr"
    args = ["train", str(csv), "--target", "y", *TINY, "--random-state", "0", "-q"]
    assert main([*args, "-o", str(out)]) == 0
    return out


def run(capsys, *args):
    status = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


def test_train_reports_honest_mae_and_writes_its_files(csv, tmp_path, capsys):
    out = tmp_path / "wine.kr"
    status, stdout, err = run(
        capsys, "train", csv, "--target", "y", *TINY, "--random-state", 3, "-o", out
    )
    assert status == 0, err
    assert "Epoch 5/5" in stdout  # progress, since not --quiet

    # The MAE is the one on the rows the command held out, in the target's units.
    frame = pd.read_csv(csv)
    _, X_val, _, y_val = train_test_split(
        frame[["a", "b", "c"]], frame["y"], test_size=0.2, random_state=3
    )
    mae = np.mean(np.abs(load(out).predict(X_val) - y_val))
    assert f"validation MAE (12 held-out rows): y {mae:.4g}\n" in stdout
    assert "best epoch: " in stdout

    history = pd.read_csv(tmp_path / "wine.history.csv", index_col="epoch")
    assert list(history.columns) == ["loss", "val_loss"] and len(history) == 5
    assert (tmp_path / "wine.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert read_metadata(out)["target_names"] == ["y"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "wine.history.csv",
        "wine.kr",
        "wine.png",
    ]


def test_train_on_bundled_cereals(tmp_path, capsys):
    out = tmp_path / "cereals.kr"
    status, stdout, err = run(capsys, "train", "--dataset", "cereals", *TINY, "-q", "-o", out)
    assert status == 0, err
    assert "Epoch" not in stdout  # --quiet
    assert "validation MAE (15 held-out rows): calories " in stdout  # 74 complete rows
    loaded = load(out)
    assert loaded.n_features_in_ == 12
    assert not {"name", "mfr", "type", "calories"} & set(loaded.feature_names_in_)
    assert read_metadata(out)["target_names"] == ["calories"]


def test_predict_to_stdout_and_to_a_file(model, csv, tmp_path, capsys):
    frame = pd.read_csv(csv)
    expected = load(model).predict(frame[["a", "b", "c"]])

    # Extra columns (the target) are ignored and the model's column order is used.
    status, printed, err = run(capsys, "predict", model, csv)
    assert status == 0 and err == ""
    header, *rows = printed.splitlines()
    assert header == "y"
    # Printed in full: Python's float() reads back the very predictions.
    np.testing.assert_array_equal([float(v) for v in rows], expected)

    shuffled = tmp_path / "shuffled.csv"
    frame[["c", "y", "a", "b"]].to_csv(shuffled, index=False)
    status, stdout, err = run(capsys, "predict", model, shuffled, "-o", tmp_path / "p.csv")
    assert status == 0 and stdout == "" and err == ""
    assert (tmp_path / "p.csv").read_text() == printed


def test_predict_with_a_model_fitted_on_arrays(model, csv, tmp_path, capsys):
    # Saved from Python without feature or target names: columns are taken
    # in order, and the output column is called "prediction".
    est = load(model)
    del est.feature_names_in_
    est.save(tmp_path / "arrays.kr")
    status, printed, err = run(capsys, "predict", tmp_path / "arrays.kr", csv)
    assert status == 2 and "expects 3 feature columns. Received: 4 columns" in err
    pd.read_csv(csv).drop(columns="y").to_csv(tmp_path / "X.csv", index=False)
    status, printed, err = run(capsys, "predict", tmp_path / "arrays.kr", tmp_path / "X.csv")
    assert status == 0 and printed.splitlines()[0] == "prediction"
    assert len(printed.splitlines()) == 61


def test_search_ranks_and_saves_the_best(csv, tmp_path, capsys):
    out = tmp_path / "best.kr"
    status, stdout, err = run(
        capsys,
        "search",
        csv,
        "--target",
        "y",
        "--width",
        "4,8",
        "--depth",
        "1",
        "--batch-size",
        "16",
        "--cv",
        "2",
        "--epochs",
        "3",
        "--random-state",
        "0",
        "-o",
        out,
    )
    assert status == 0, err
    assert "Fitting 2 folds for each of 2 candidates" in stdout
    lines = stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:1] == ["rank"])
    assert [line.split()[0] for line in lines[header + 1 : header + 3]] == ["1", "2"]
    assert "±" in lines[header + 1]

    results = pd.read_csv(tmp_path / "best.results.csv")
    assert len(results) == 2 and "mean_test_score" in results
    best = results.loc[results.rank_test_score == 1, "param_width"].item()
    assert f"best: width={best}, depth=1, batch_size=16" in stdout
    assert load(out).model_.layers[0].units == best


def test_help_and_version_run_as_a_module():
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    done = subprocess.run(
        [sys.executable, "-m", "kerasreg", "--help"], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.startswith("usage: kerasreg ")
    for word in ("train", "search", "predict", "examples:"):
        assert word in done.stdout


def test_version(capsys):
    from kerasreg import __version__

    assert run(capsys, "--version")[:2] == (0, f"kerasreg {__version__}\n")


@pytest.fixture(scope="module")
def files(tmp_path_factory, csv):
    """Bad inputs, by name."""
    d = tmp_path_factory.mktemp("bad")
    frame = pd.read_csv(csv)
    (d / "empty.csv").write_text("")
    (d / "header.csv").write_text("a,b,c,y\n")
    frame.assign(kind="x").to_csv(d / "text.csv", index=False)
    frame.assign(a=frame.a.where(frame.index > 2)).to_csv(d / "nan.csv", index=False)
    frame.drop(columns="b").to_csv(d / "no_b.csv", index=False)
    (d / "notes.kr").write_text("not a model")
    return d


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "{d}/missing.csv", "--target", "y"], "missing.csv: no such file"),
        (["train", "{d}/empty.csv", "--target", "y"], "empty.csv is empty"),
        (["train", "{d}/header.csv", "--target", "y"], "header.csv has a header but no rows"),
        (["train", "{csv}", "--target", "z"], "has no column 'z'; its columns are: 'a', 'b'"),
        (["train", "{csv}"], "Give --target COLUMN, one of: 'a', 'b', 'c', 'y'"),
        (["train", "{d}/text.csv", "--target", "y"], "non-numeric column(s) 'kind'"),
        (["train", "{d}/nan.csv", "--target", "y"], "missing values in 'a' (3 rows)"),
        (["train", "{csv}", "--target", "y", "--width", "0"], "argument --width: must be an int"),
        (["train", "{csv}", "--target", "y", "--learning-rate", "-1"], "argument --learning-rate"),
        (["train", "{csv}", "--target", "y", "--validation-fraction", "0"], "must be above 0"),
        (["train", "{csv}", "--target", "y", "--width", "x"], "invalid int value: 'x'"),
        (["train", "{csv}", "--dataset", "cereals"], "not allowed with argument"),
        (["train", "{csv}", "--target", "y", "-o", "{d}/no/dir/m.kr"], "no directory"),
        (["search", "{csv}", "--target", "y", "--depth", "1,-1"], "argument --depth"),
        (["search", "{csv}", "--target", "y", "--width", "8,x"], "comma-separated ints"),
        (["search", "{csv}", "--target", "y", "--cv", "1"], "at least 2 folds"),
        (["predict", "{d}/notes.kr", "{csv}"], "is not a zip archive"),
        (["predict", "{d}/missing.kr", "{csv}"], "missing.kr: No such file"),
        (["predict", "{model}", "{d}/no_b.csv"], "lacks the model's feature column(s) 'b'"),
        (["predict", "{model}", "{d}/missing.csv"], "missing.csv: no such file"),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_errors_are_one_line_with_status_2(args, message, files, csv, model, tmp_path, capsys):
    args = [a.format(d=files, csv=csv, model=model) for a in args]
    if args and args[0] in ("train", "search") and "-o" not in args:
        args += ["-o", str(tmp_path / "m.kr")]
    status, out, err = run(capsys, *args)
    assert status == 2
    assert err.startswith("kerasreg: error: ") and err.count("\n") == 1, err
    assert message in err
    assert "Traceback" not in out + err
    assert not (tmp_path / "m.kr").exists()


def test_train_on_a_validation_csv(csv, tmp_path, capsys):
    # All of DATA.csv is trained on; the validation file's rows early-stop
    # the fit and are the ones the MAE is reported on.
    from kerasreg import DenseRegressor

    frame = pd.read_csv(csv)
    valid = frame.iloc[:20].assign(note="ignored")  # extra columns are ignored
    valid_csv = tmp_path / "valid.csv"
    valid.to_csv(valid_csv, index=False)
    out = tmp_path / "m.kr"
    status, stdout, _ = run(
        capsys, "train", csv, "--target", "y", "--validation-csv", valid_csv, *TINY,
        "--random-state", "0", "-q", "-o", out,
    )  # fmt: skip
    assert status == 0
    assert "validation MAE (20 held-out rows)" in stdout
    saved = load(out)
    X, y = frame.drop(columns="y"), frame["y"]
    by_hand = DenseRegressor(**saved.get_params()).fit(
        X, y, X_val=valid[["a", "b", "c"]], y_val=valid["y"]
    )
    np.testing.assert_array_equal(saved.predict(X), by_hand.predict(X))
    assert saved.n_iter_ == by_hand.n_iter_
    # --validation-fraction is not used then; 0 is no error.
    status, _, _ = run(
        capsys, "train", csv, "--target", "y", "--validation-csv", valid_csv,
        "--validation-fraction", "0", *TINY, "-o", out,
    )  # fmt: skip
    assert status == 0
    status, _, err = run(
        capsys, "train", csv, "--target", "y", "--validation-csv", csv.with_name("none.csv"),
        *TINY, "-o", out,
    )  # fmt: skip
    assert status == 2 and "no such file" in err


def _interrupt(args, tmp_path, marker, delay):
    """Run the command, send SIGINT delay s after its output shows marker.

    Returns the exit status and stderr.
    """
    import signal
    import threading
    import time

    proc = subprocess.Popen(
        [sys.executable, "-m", "kerasreg", *map(str, args)], cwd=tmp_path,
        env={**os.environ, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
        # As from a terminal, even where this test runs with SIGINT ignored.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    seen, err = threading.Event(), []

    def watch_stdout():
        text = ""
        while char := proc.stdout.read(1):
            text += char
            if marker in text:
                seen.set()

    readers = [
        threading.Thread(target=watch_stdout),
        threading.Thread(target=lambda: err.append(proc.stderr.read())),
    ]
    for reader in readers:
        reader.start()
    try:
        assert seen.wait(120), "the command never started training"
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)  # "at once": a hung command fails here
    finally:
        proc.kill()
        for reader in readers:
            reader.join()
    return proc.returncode, err[0]


# Networks that would train for hours: only Ctrl-C ends them.
_FOREVER = ["--epochs", "100000", "--patience", "100000", "--random-state", "0"]


@pytest.mark.integration
def test_ctrl_c_stops_train_and_saves_nothing(tmp_path):
    out = tmp_path / "wine.kr"
    # "Epoch 1/..." is printed at the end of the first epoch: the fit has
    # epochs to keep, and used to return them (and the command to save them).
    status, err = _interrupt(
        ["train", "--dataset", "red-wine", *_FOREVER, "-o", out], tmp_path, "Epoch", 0.5
    )
    assert status == 130, err
    assert "kerasreg: interrupted; nothing was saved" in err
    assert "Traceback" not in err
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.integration
def test_ctrl_c_stops_search_and_ranks_nothing(tmp_path):
    out = tmp_path / "best.kr"
    # A small network: its first fit is past its first epochs within a second
    # or two of "Fitting 3 folds...", so the interrupted fit has epochs to
    # return; the search used to score it and start the next fold's fit.
    args = ["search", "--dataset", "red-wine", "--width", "8", "--depth", "1", *_FOREVER]
    status, err = _interrupt([*args, "-o", out], tmp_path, "Fitting", 5.0)
    assert status == 130, err
    assert "kerasreg: interrupted; nothing was saved" in err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_options_come_from_the_estimator():
    # The command line reads DenseRegressor's defaults and help from its
    # source without importing it (so that --help is instant): they must
    # equal the imported class's.
    import inspect

    from kerasreg import DenseRegressor
    from kerasreg._cli_options import defaults, descriptions

    assert defaults() == DenseRegressor().get_params()
    documented = inspect.getdoc(DenseRegressor)
    for name, (kind, sentence) in descriptions().items():
        assert f"{name} : {kind}" in documented
        assert sentence
    help_text = subprocess.run(
        [sys.executable, "-m", "kerasreg", "train", "--help"], capture_output=True, text=True,
        check=True,
    ).stdout  # fmt: skip
    assert "units in each hidden layer (512)" in help_text
    assert "(a new seed each run)" in help_text


def test_train_and_predict_on_the_original_semicolon_separated_wine_file(tmp_path, capsys):
    # The UCI wine files are ';'-separated, with quoted names holding spaces.
    import csv as csv_module

    from kerasreg.datasets import load_red_wine

    frame = load_red_wine(as_frame=True).frame.head(200)
    path = tmp_path / "winequality-red.csv"
    frame.to_csv(path, sep=";", index=False, quoting=csv_module.QUOTE_NONNUMERIC)
    assert path.read_text().startswith('"fixed acidity";"volatile acidity";')
    out = tmp_path / "wine.kr"
    status, stdout, err = run(capsys, "train", path, "--target", "quality", *TINY, "-q", "-o", out)
    assert status == 0, err
    assert "validation MAE (40 held-out rows): quality" in stdout
    # A column with spaces in its name as the target, the delimiter given.
    status, stdout, err = run(
        capsys, "train", path, "--sep", ";", "--target", "fixed acidity", *TINY, "-q",
        "-o", tmp_path / "acidity.kr",
    )  # fmt: skip
    assert status == 0, err
    assert "fixed acidity" in stdout
    status, stdout, err = run(capsys, "predict", out, path)
    assert status == 0, err
    assert len(stdout.splitlines()) == 201


def test_an_unreadable_csv_error_says_what_was_seen(tmp_path, capsys):
    path = tmp_path / "ragged.csv"
    path.write_text("a,b,y\n1,2,3\n1,2,3,4,5\n")
    status, _, err = run(capsys, "train", path, "--target", "y", "-o", tmp_path / "m.kr")
    assert status == 2
    assert "not a readable CSV file with delimiter ','" in err
    assert "its first line is 'a,b,y'" in err and "--sep" in err


def test_a_csv_with_old_mac_line_endings(csv, tmp_path, capsys):
    # Lines ended by a lone \r: the header is the first of them.
    path = tmp_path / "cr.csv"
    path.write_bytes(csv.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r"))
    status, _, err = run(
        capsys, "train", path, "--target", "y", *TINY, "-q", "-o", tmp_path / "m.kr"
    )
    assert status == 0, err
