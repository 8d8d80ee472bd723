"""The suite's fixtures live in tests/udw_fixtures/, one plugin module per area.

pyproject's `pythonpath = ["tests"]` makes them importable without sys.path edits.
"""

pytest_plugins = [
    "udw_fixtures.images",
    "udw_fixtures.fake_comfy",
    "udw_fixtures.ray_local",
    "udw_fixtures.faces",
    "udw_fixtures.browser",
    "udw_fixtures.clips",
    "udw_fixtures.taggers",
    "udw_fixtures.ui",
]
