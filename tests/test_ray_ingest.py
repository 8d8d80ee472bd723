"""Importing from fsspec URLs and on Ray workers gives the manifest of the local import."""

import fsspec
import pytest

from udw.core.engine import EngineSettings
from udw.core.manifest import Dataset
from udw.core.ports import Ports
from udw.dataset.ingest import import_images
from udw.scale.compare import canonical_manifest, manifest_differences
from udw.scale.storage import expand


@pytest.fixture
def two_folders(tmp_path, make_image):
    """Six images, a name used in both folders (the second gets a hashed name) and a broken file."""
    for i in range(4):
        make_image(tmp_path / "src" / "a" / f"frame {i:02d}.png", i)
    make_image(tmp_path / "src" / "b" / "frame 00.png", 10)
    make_image(tmp_path / "src" / "b" / "other.jpg", 11)
    (tmp_path / "src" / "b" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    return tmp_path / "src"


def same(a, b):
    return manifest_differences(canonical_manifest(a), canonical_manifest(b)) == []


def test_file_urls_import_like_paths(tmp_path, two_folders):
    local = Dataset(tmp_path / "local", create=True)
    lrep = import_images(local, [two_folders / "a", two_folders / "b"])
    viaurl = Dataset(tmp_path / "url", create=True)
    urep = import_images(viaurl, [f"file://{two_folders}/a", f"file://{two_folders}/b/*.*"])
    assert (urep.added, len(urep.failed)) == (lrep.added, len(lrep.failed)) == (6, 1)
    assert same(local, viaurl)
    assert (viaurl.root / "images" / "frame 00.png").read_bytes() == (two_folders / "a" / "frame 00.png").read_bytes()
    again = import_images(viaurl, [f"file://{two_folders}/a"])
    assert again.added == 0 and again.already_there == 4


def test_object_store_urls(tmp_path, two_folders):
    mem = fsspec.filesystem("memory")
    for p in sorted((two_folders / "a").iterdir()):
        mem.pipe(f"/bucket/shots/{p.name}", p.read_bytes())
    mem.pipe("/bucket/shots/notes.txt", b"not an image")
    mem.pipe("/bucket/shots/bad.png", b"garbage")
    assert len(expand(["memory://bucket/shots"], {".png"})) == 5
    ds = Dataset(tmp_path / "ds", create=True)
    rep = import_images(ds, ["memory://bucket/shots"])
    assert rep.added == 4 and [p for p, _ in rep.failed] == ["memory:///bucket/shots/bad.png"]
    assert rep.failed[0][1].startswith("memory:///bucket/shots/bad.png: cannot read image")
    assert not list((ds.root / "images").glob(".*"))  # the bad file left no temp file behind
    src = {s["path"] for s in ds.sources()}
    assert src == {"memory:///bucket/shots"}
    assert import_images(ds, ["memory://bucket/shots/*.png"]).already_there == 4


def test_missing_url_driver_says_what_to_install(tmp_path):
    from udw.core.errors import BadInput
    with pytest.raises(BadInput, match="no matching files|pip install"):
        import_images(Dataset(tmp_path / "ds", create=True), ["memory://nothing/here"])


def test_ray_import_matches_local(tmp_path, two_folders, ray_local):
    local = Dataset(tmp_path / "local", create=True)
    import_images(local, [two_folders / "a", two_folders / "b"])
    remote = Dataset(tmp_path / "ray", create=True)
    seen = []
    rep = import_images(remote, [two_folders / "a", f"file://{two_folders}/b"],
                        ports=Ports(progress=lambda d, t, p=None: seen.append((d, t)),
                                    engine=EngineSettings("ray", actors=2)))
    assert rep.added == 6 and len(rep.failed) == 1 and seen[-1] == (7, 7)
    assert same(local, remote)
    with local.db() as a, remote.db() as b:  # the same ids too: commits follow the input order
        assert a.execute("SELECT id, path FROM items ORDER BY id").fetchall() == \
            b.execute("SELECT id, path FROM items ORDER BY id").fetchall()
