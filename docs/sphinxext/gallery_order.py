"""The gallery's order: the course's lessons, then the scikit-learn tooling."""

COURSE_ORDER = [
    "plot_linear_unit_cereals.py",
    "plot_deep_network_red_wine.py",
    "plot_capacity.py",
    "plot_early_stopping.py",
    "plot_batch_size_learning_rate.py",
    "plot_pipeline_cereals.py",
]


class CourseOrder:
    """A sphinx-gallery ``within_subsection_order`` key; new examples go last."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        if filename in COURSE_ORDER:
            return (COURSE_ORDER.index(filename), filename)
        return (len(COURSE_ORDER), filename)

    def __repr__(self):
        # sphinx-gallery compares configurations by repr to decide on rebuilds.
        return f"CourseOrder({COURSE_ORDER})"
