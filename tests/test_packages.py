"""A missing optional package stops only its step, with the package name and how to install it."""

import sys

import numpy as np
import pytest

from udw.characters.cluster import cluster_unknowns
from udw.core.packages import MissingPackage, require


def test_require_names_the_package_and_the_fix():
    with pytest.raises(MissingPackage, match="needs the Python package not-a-package") as err:
        require("udw_no_such_module", "not-a-package", "the frobnicator")
    assert "pip install not-a-package" in err.value.hint and "install.py" in err.value.hint
    assert require("json", "json", "x").dumps([]) == "[]"


def test_clustering_without_scikit_learn_says_so(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.cluster", None)  # as if scikit-learn were not installed
    emb = np.eye(4, dtype=np.float32)[[0, 0, 0, 1, 1, 1]]
    with pytest.raises(MissingPackage, match="scikit-learn"):
        cluster_unknowns(emb, "dbscan", 0.1, 3)
