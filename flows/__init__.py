"""Prefect flows: orchestration only; all logic lives in ``pipeline``."""

import os
from pathlib import Path

# Keep Prefect's state inside the project (unless the user configured otherwise) and show
# the flows' progress lines.
os.environ.setdefault("PREFECT_HOME", str(Path.cwd() / ".prefect"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
