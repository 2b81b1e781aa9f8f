"""Fixture trees for the analyzer and CLI tests (built by tests/fixtures.py, answers by hand)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures import build_bad_tree, build_container_tree, build_run_tree


@pytest.fixture
def ctree(tmp_path: Path) -> Path:
    """The main container-layout tree."""
    return build_container_tree(tmp_path / "logs")


@pytest.fixture
def rtree(tmp_path: Path) -> Path:
    """The run-scoped tree."""
    return build_run_tree(tmp_path / "runs")


@pytest.fixture
def btree(tmp_path: Path) -> Path:
    """The bad-input tree."""
    root = tmp_path / "bad"
    build_bad_tree(root)
    return root
