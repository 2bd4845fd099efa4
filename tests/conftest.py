import os

# Keep TensorFlow's C++ logs out of test output; set before TensorFlow loads.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
