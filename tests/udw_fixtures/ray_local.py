"""A local Ray for the scale-out tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def ray_local():
    """One private Ray instance (2 CPUs, no dashboard, bound to 127.0.0.1) for the whole session."""
    ray = pytest.importorskip("ray", reason='Ray is not installed (pip install "udw-studio[ray]")')
    pytest.importorskip("ray.data")
    started = not ray.is_initialized()
    if started:
        try:
            ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1",
                     log_to_driver=False, configure_logging=False)
        except Exception as exc:  # e.g. a container without room for Ray's object store
            pytest.skip(f"a local Ray instance could not start on this machine: {exc}")
    yield ray
    if started:
        ray.shutdown()
