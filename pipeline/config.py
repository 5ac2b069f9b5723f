"""The one place that reads configuration (YAML files in ``configs/``).

The configs directory is found, in order: ``$ZHNEWS_CONFIG_DIR``, ``./configs`` of
the project checkout, or the copy shipped inside the package (``pipeline/configs``
is not used; the repo's ``configs/`` is packaged as data via pyproject).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(__file__).resolve().parent / "data"


class ConfigError(RuntimeError):
    """A config file is missing or malformed."""


def config_dir() -> Path:
    env = os.environ.get("ZHNEWS_CONFIG_DIR")
    if env:
        return Path(env)
    return PROJECT_ROOT / "configs"


@lru_cache(maxsize=None)
def _load(directory: str, name: str) -> dict[str, Any]:
    import yaml

    path = Path(directory) / f"{name}.yaml"
    if not path.exists():
        raise ConfigError(f"config file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"cannot parse {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping at top level")
    return data


def load_config(name: str) -> dict[str, Any]:
    """Return the parsed ``configs/<name>.yaml`` (cached; treat as read-only)."""
    return _load(str(config_dir()), name)


def project_path(relative: str | os.PathLike[str]) -> Path:
    """Resolve a path from a config relative to the project root."""
    p = Path(relative)
    return p if p.is_absolute() else PROJECT_ROOT / p
