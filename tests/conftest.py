import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT.parent / "shared" / "seeds"

os.environ.setdefault("PREFECT_HOME", str(ROOT / ".prefect"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# Prefect logs its temporary server's shutdown after pytest has closed the captured streams.
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def seed_path(prefix: str) -> Path:
    """A seed file by its number; skips the test when the seeds are not beside the checkout."""
    if not SEEDS.is_dir():
        pytest.skip("seeds not available: ../shared/seeds")
    matches = sorted(SEEDS.glob(f"{prefix}_*"))
    if not matches:
        pytest.skip(f"seed {prefix} not found in ../shared/seeds")
    return matches[0]


@pytest.fixture
def seed():
    return seed_path
