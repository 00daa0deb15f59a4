"""Configuration: production refuses unsafe settings; checks explain a missing service plainly."""

import os
import subprocess
import sys
from pathlib import Path

from cms.health import service_probes

ROOT = Path(__file__).resolve().parents[2]


def _import_production(**env):
    environment = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}} | env
    code = "import cms.settings.production"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True)


def test_production_refuses_the_default_secret_key():
    """Without SECRET_KEY the production settings do not load, and say why in Chinese."""
    result = _import_production()
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr and "生产环境" in result.stderr


def test_production_refuses_debug():
    """DEBUG=True is refused in production even with a good key."""
    result = _import_production(SECRET_KEY="x" * 50, DEBUG="true")
    assert result.returncode != 0 and "DEBUG" in result.stderr


def test_production_loads_with_safe_settings():
    result = _import_production(SECRET_KEY="x" * 50)
    assert result.returncode == 0, result.stderr


def test_unreachable_redis_is_reported(settings):
    """A configured service that does not answer is named with its error (a real closed port, not a mock)."""
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    failures = dict(service_probes())
    assert failures["redis"]


def test_unreachable_search_engine_is_reported(settings):
    """A configured search engine that does not answer is a deploy warning from the search app's own check."""
    from search.checks import check_search_engine

    settings.SEARCH_URL = "http://127.0.0.1:1"  # a closed port: the engine is built per URL, never cached across
    warnings = check_search_engine(None)
    assert [w.id for w in warnings] == ["lighthouse.W002"]
