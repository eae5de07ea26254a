from __future__ import annotations

from pathlib import Path

import pytest

from tests.example_site import migrate, migrated_copy


@pytest.fixture(scope="session")
def example_db_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example project's SQLite database, migrated once per run."""
    return migrate(tmp_path_factory.mktemp("example") / "template.sqlite3")


@pytest.fixture
def example_db(example_db_template: Path, tmp_path: Path) -> str:
    """A fresh migrated example-project database for one test."""
    return str(migrated_copy(example_db_template, tmp_path / "db.sqlite3"))
