"""Classes of a host-named pack (ComfyUI's `udw-studio main.udw...`) cross to Ray workers."""

import pickle
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

SCRIPT = r'''
import importlib, pickle, sys, types
path0 = list(sys.path)
pack = types.ModuleType("my pack-1"); pack.__path__ = [sys.argv[1]]; sys.modules["my pack-1"] = pack
naming = importlib.import_module("my pack-1.udw.scale.naming")
worker = importlib.import_module("my pack-1.udw.scale.worker")
assert "udw" not in sys.modules and naming.pack_prefix() == "my pack-1"
canon = naming.canonical_class(worker.StageWorker)
assert canon.__module__ == "udw.scale.worker" and canon is not worker.StageWorker
assert sys.modules["udw"].__file__.startswith(sys.argv[1]) and sys.path == path0
engine = importlib.import_module("my pack-1.udw.core.engine")
sys.stdout.buffer.write(pickle.dumps(engine.EngineSettings("ray", actors=3)))
'''

READ = r'''
import pickle, sys
from udw.scale.naming import install_alias
install_alias("my pack-1")
obj = pickle.loads(sys.stdin.buffer.read())
print(type(obj).__module__, obj.actors)
'''


def test_pack_named_classes_resolve_on_a_worker(tmp_path):
    made = subprocess.run([sys.executable, "-c", SCRIPT, str(REPO)], capture_output=True, timeout=120,
                          cwd=tmp_path)
    assert made.returncode == 0, made.stderr.decode()
    assert b"my pack-1.udw.core.engine" in made.stdout  # pickled under the host's name
    read = subprocess.run([sys.executable, "-c", READ], input=made.stdout, capture_output=True,
                          timeout=120, cwd=REPO)
    assert read.returncode == 0, read.stderr.decode()
    assert read.stdout.decode().split() == ["my", "pack-1.udw.core.engine", "3"]
    with __import__("pytest").raises(ModuleNotFoundError):
        pickle.loads(made.stdout)  # without the alias: the failure Ray workers would hit
