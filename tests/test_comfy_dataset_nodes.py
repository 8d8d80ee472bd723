"""The dataset nodes inside a fake ComfyUI (the real one runs in tests/hosts)."""

import shutil




def test_pack_registers_namespaced_nodes(comfy):
    assert {"UDWImportImages", "UDWLoadDataset", "UDWDatasetPreview"} <= set(comfy.nodes)
    assert all(k.startswith("UDW") for k in comfy.nodes)
    names = comfy.pack.NODE_DISPLAY_NAME_MAPPINGS
    assert names["UDWImportImages"] == "UDW Import Images"
    assert comfy.pack.WEB_DIRECTORY == "./web"
    for cls in comfy.nodes.values():
        assert cls.CATEGORY.startswith("UDW Studio") and cls.DESCRIPTION
        assert hasattr(cls, cls.FUNCTION)


def test_import_then_preview(comfy, image_folder):
    shutil.copytree(image_folder, comfy.base / "input" / "pics")
    (ds, report), ui = comfy.run("UDWImportImages", source="pics", dataset="d1", mode="copy")
    assert "6 added" in report and ui["text"] == [report]
    assert ds.root == comfy.base / "output" / "udw" / "d1" and ds.count() == 6
    assert comfy.progress[-1][:2] == (6, 6)
    (grid,), ui = comfy.run("UDWDatasetPreview", dataset=ds, limit=4, columns=2, cell=64)
    assert grid.shape[0] == 1 and grid.shape[3] == 3 and 0 <= float(grid.min()) <= float(grid.max()) <= 1
    shown = ui["udw_gallery"]  # the first items, one by one, for the node's gallery
    assert len(shown) == 4 and all(e["dataset"] == str(ds.root) for e in shown)
    (again, n), _ = comfy.run("UDWLoadDataset", dataset="d1")
    assert n == 6 and again.root == ds.root


def test_bad_paths_are_validation_errors(comfy, tmp_path):
    assert "no such file" in comfy.validate("UDWImportImages", {"source": "missing", "dataset": "d"})
    msg = comfy.validate("UDWImportImages", {"source": str(tmp_path), "dataset": "d"})
    assert "outside the allowed folders" in msg
    assert "no such file" in comfy.validate("UDWLoadDataset", {"dataset": "nothing"})
    (comfy.base / "output" / "udw" / "plain").mkdir(parents=True)
    assert "not a UDW dataset" in comfy.validate("UDWLoadDataset", {"dataset": "plain"})
    assert comfy.validate("UDWImportImages", {"source": None, "dataset": "d"}) is True  # linked input


def test_interrupt_stops_import_and_rerun_resumes(comfy, image_folder):
    shutil.copytree(image_folder, comfy.base / "input" / "pics")
    comfy.interrupted = True
    (ds, report), _ = comfy.run("UDWImportImages", source="pics", dataset="d2", mode="copy")
    assert "cancelled" in report and ds.count() == 1
    comfy.interrupted = False
    (ds, report), _ = comfy.run("UDWImportImages", source="pics", dataset="d2", mode="copy")
    assert "5 added, 1 already there" in report and ds.count() == 6


def test_shipped_workflow_runs(comfy, image_folder, load_workflow):
    shutil.copytree(image_folder, comfy.base / "input" / "udw_sample_images")
    outputs = comfy.run_workflow(load_workflow("dataset_import_preview.api.json"))
    assert outputs["1"][0].count() == 6 and outputs["2"][0].shape[0] == 1


def test_core_never_imports_a_host():
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "udw"
    hosts = {"comfy", "comfy_api", "comfy_extras", "folder_paths", "server", "execution", "nodes",
             "modules", "launch", "webui"}
    offenders = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offenders += [f"{path.relative_to(root)}: {n}" for n in names if n.split(".")[0] in hosts]
    assert offenders == []
    gradio_users = [p for p in root.rglob("*.py")
                    if "import gradio" in p.read_text() and "ui" not in p.relative_to(root).parts]
    assert gradio_users == []
