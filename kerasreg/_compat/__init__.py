"""Every use of a private or experimental API of TensorFlow, Keras or scikit-learn.

One module per library. Each use says in one line why kerasreg needs it and
what happens where the library has changed (the fallback). Nowhere else in
kerasreg may import these APIs: ruff's banned-api rule (TID251, configured in
``pyproject.toml``) enforces it. When a new release of one of the libraries
breaks something, the cause is in one of these files, and the tests in
``tests/compat/`` say which.
"""
