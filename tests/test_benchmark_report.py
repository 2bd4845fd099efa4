"""The benchmark's report writer and README.md's table (benchmarks/bench): no fits, no timing."""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.bench import readme, report  # noqa: E402
from benchmarks.bench.markdown import parse_tables  # noqa: E402

KR, KERAS = "kerasreg DenseRegressor", "Keras model.fit (seed code)"
SCIKERAS, MLP = "scikeras KerasRegressor", "sklearn MLPRegressor"
JAX_TUNED, TORCH = "Keras on JAX, tuned", "PyTorch loop, fused Adam"


def test_readme_table_is_the_one_generated_from_results_md():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    results = (REPO / "benchmarks" / "RESULTS.md").read_text(encoding="utf-8")
    assert readme.BEGIN in text and readme.END in text
    # On failure: `python benchmarks/run.py --readme` rewrites it; edit RESULTS.md, not README.md.
    assert readme.rewrite(text, results) == text


def test_readme_table_reads_results_md_numbers():
    results = (REPO / "benchmarks" / "RESULTS.md").read_text(encoding="utf-8")
    rows = {row[0].split(":")[0]: row[1:] for row in readme.table_rows(results)}
    assert set(rows) == {"W1", "W2", "W3", "W4", "W5", "one-row `predict`"}
    # Every kerasreg figure is a cell of RESULTS.md, verbatim.
    for cell in (rows["W2"][0], *rows["W4"][0].split(" / ")):
        assert f"| {cell} |" in results


def _targets(results):
    [rows] = parse_tables(report.targets_table(results))
    return [(r["target"], r["measured"], r["threshold"], r["result"]) for r in rows]


def test_targets_table_from_the_target_records():
    results = {
        "w1": {
            KR: {"ms_per_epoch": 30.0, "gflops": 120.0},
            KERAS: {"ms_per_epoch": 120.0},
            JAX_TUNED: {"ms_per_epoch": 40.0},
            MLP: {"ms_per_epoch": 40.0},
        },
        "peak": {"numpy": 200.0, "tf": 240.0, "tf in-graph 256×512×512": 160.0},
        "w2": {
            KR: {"ms_per_epoch": 1.0},
            TORCH: {"ms_per_epoch": 4.0},
            KERAS: {"ms_per_epoch": 8.0},
            MLP: {"error": "ValueError: no"},
        },
        "first_fit": {
            KR: {"first_s": 2.5, "repeat_s": 2.0, "overhead_s": 0.5},
            "kerasreg, KERASREG_XLA_CACHE filled": {
                "first_s": 2.25,
                "repeat_s": 2.0,
                "overhead_s": 0.25,
            },
        },
        "w3": {
            KR: {"wall_s": 10.0, "best_mae": 0.5},
            SCIKERAS: {"wall_s": 100.0},
            MLP: {"wall_s": 5.0, "best_mae": 0.49},
        },
        "w4": {
            ("kerasreg", 10_000): {"us_per_row": 2.0, "rss_ratio": 10.0},
            ("kerasreg", 100_000): {"us_per_row": 1.0, "rss_ratio": 2.5},
            ("MLPRegressor", 10_000): {"us_per_row": 9.0, "rss_ratio": 0.1},
        },
        "import": {
            "import_s": 0.2,
            "bare_import_s": 0.001,
            "tf_loaded": False,
            "reference": {"sklearn.base": 0.15},
        },
        "w5": {1: {"wall_s": 10.0, "again_wall_s": 4.0}, 2: {"wall_s": 12.0, "again_wall_s": 2.0}},
        "predict": {"kerasreg predict": {"one_ms": 1.5}},
    }
    assert _targets(results) == [
        ("W1 kerasreg ms/epoch ÷ Keras model.fit", "0.250", "≤ 0.3", "PASS"),
        ("W1 kerasreg ms/epoch ÷ MLPRegressor", "0.750", "≤ 0.6", "FAIL"),
        ("W1 kerasreg ms/epoch ÷ Keras on JAX, tuned", "0.750", "≤ 0.8", "PASS"),
        (
            "W1 kerasreg GFLOP/s ÷ in-graph matmul rate (W1's product)",
            "75.0% of 160 GFLOP/s",
            "≥ 80%",
            "FAIL",
        ),
        ("W2 kerasreg ms/epoch ÷ MLPRegressor", "–", "≤ 0.7", "n/a"),
        (
            "W2 kerasreg ms/epoch ÷ the fastest other contender",
            f"0.250 (vs {TORCH})",
            "≤ 0.2",
            "FAIL",
        ),
        ("W1 first fit in a fresh process − repeat fit (s)", "0.50 (2.50 − 2.00)", "≤ 0.3", "FAIL"),
        (
            "W1 first fit − repeat, a fresh process with a filled KERASREG_XLA_CACHE (s)",
            "0.25 (2.25 − 2.00)",
            "≤ 0.3",
            "PASS",
        ),
        ("W3 kerasreg wall ÷ scikeras", "0.100", "≤ 0.2", "PASS"),
        ("W3 kerasreg wall ÷ MLPRegressor", "2.000", "≤ 0.5", "FAIL"),
        (
            "W3 kerasreg best CV MAE vs MLPRegressor's",
            "0.5000 vs 0.4900",
            "≤ MLPRegressor's",
            "FAIL",
        ),
        ("W4 time per row, max ÷ min over 10,000–100,000 rows", "2.00", "≤ 1.5", "FAIL"),
        (
            "W4 peak RSS beyond baseline ÷ input bytes, 1st fit at 100,000 rows",
            "2.50 (10.00 at 10,000)",
            "≤ 3.0",
            "PASS",
        ),
        ("W5 GridSearchCV wall, n_jobs=2 ÷ n_jobs=1", "1.200", "≤ 0.6", "FAIL"),
        (
            "W5 the same search again in that process (workers reused), n_jobs=2 ÷ n_jobs=1",
            "0.500",
            "≤ 0.6",
            "PASS",
        ),
        (
            "`import kerasreg; kerasreg.DenseRegressor()` time (s)",
            "0.200 (`import sklearn.base` alone: 0.150)",
            "≤ 0.3",
            "PASS",
        ),
        (
            "`import kerasreg` alone (s); scikit-learn loads with the first estimator",
            "0.001",
            "≤ 0.3",
            "PASS",
        ),
        ("`import kerasreg` does not import tensorflow", "no TF", "no TF", "PASS"),
        ("one-row predict (ms, median)", "1.500", "≤ 1.0", "FAIL"),
    ]


def test_targets_without_results_are_not_applicable():
    rows = _targets({"import": {"import_s": None, "tf_loaded": True}})
    assert [r[3] for r in rows] == ["n/a"] * 17 + ["FAIL", "n/a"]
    assert rows[17][1] == "imports it"
    assert rows[11][0] == "W4 time per row flat"


def test_a_target_record_is_one_row():
    record = report.Target(
        "x",
        "W5 wall",
        workload="w5",
        metric=report.ratio("wall_s", "mlp"),
        compare="<",
        threshold=1.0,
    )
    results = {"w5": {KR: {"wall_s": 3.0}, MLP: {"wall_s": 4.0}}}
    assert _targets_of(record, results) == ("W5 wall", "0.750", "< 1.0", "PASS")
    results["w5"][KR]["wall_s"] = 4.0
    assert _targets_of(record, results) == ("W5 wall", "1.000", "< 1.0", "FAIL")


def _targets_of(record, results):
    [rows] = parse_tables(report.targets_table(results, [record]))
    [row] = rows
    return row["target"], row["measured"], row["threshold"], row["result"]


def test_readme_table_follows_a_new_results_md(tmp_path):
    readme_md, results_md = tmp_path / "README.md", tmp_path / "RESULTS.md"
    readme_md.write_text((REPO / "README.md").read_text(encoding="utf-8"), encoding="utf-8")
    results = (REPO / "benchmarks" / "RESULTS.md").read_text(encoding="utf-8")
    w1 = results.index("### W1")
    kerasreg_row = results.index("| kerasreg DenseRegressor |", w1)
    ms = results[kerasreg_row:].split(" | ")[2]
    new = results[:kerasreg_row] + results[kerasreg_row:].replace(f" | {ms} | ", " | 12.34 | ", 1)
    results_md.write_text(new, encoding="utf-8")
    assert readme.write(readme_md, results_md)
    assert "| 12.34 (" in readme_md.read_text(encoding="utf-8")
    assert not readme.write(readme_md, results_md)


def test_w3_shows_the_one_thread_search_next_to_kerasreg_and_in_readme():
    from types import SimpleNamespace

    from benchmarks.bench.harness import settings
    from benchmarks.bench.workloads import w3

    search = {"best_mae": 0.5, "best_params": {"width": 16, "depth": 1, "batch_size": 32}}
    results = {
        KR: {"wall_s": 10.0, "holdout_mae": 0.49, "note": "", **search},
        w3.ONE_THREAD: {"wall_s": 4.0, "holdout_mae": 0.49, "note": "", **search},
        MLP: {"wall_s": 8.0, "holdout_mae": 0.5, "note": "", **search},
    }
    text = w3.report(SimpleNamespace(y_tr=[0.0] * 10), settings(True), results)
    [rows] = parse_tables(text)
    assert [r["contender"] for r in rows[:3]] == [KR, w3.ONE_THREAD, MLP]
    assert rows[1]["wall (s)"] == "4.0" and rows[1]["time vs kerasreg"] == "0.40×"
    [cell] = [r[1] for r in readme.table_rows(text) if r[0].startswith("W3")]
    assert cell == "10.0 s, CV MAE 0.5000; 4.0 s with `KERASREG_NUM_THREADS=1`"
    del results[w3.ONE_THREAD]
    [cell] = [
        r[1]
        for r in readme.table_rows(w3.report(SimpleNamespace(y_tr=[0.0]), settings(True), results))
        if r[0].startswith("W3")
    ]
    assert cell == "10.0 s, CV MAE 0.5000"
