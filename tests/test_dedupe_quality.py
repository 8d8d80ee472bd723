"""udw.dedupe.quality on hand-made cases: coverage, redundancy, decision precision/recall/F1 per kind."""

import pytest

from udw.dedupe.quality import quality

# drawing A: base (an expression change) + a hold + a JPEG copy; B: an arm move + a blink copy;
# C: a head tilt, alone
ITEMS = ["a0", "a1", "a2", "b0", "b1", "c0"]
DRAWING = {"a0": "A", "a1": "A", "a2": "A", "b0": "B", "b1": "B", "c0": "C"}
KIND = {"a0": "expression", "a1": "hold", "a2": "jpeg", "b0": "arm", "b1": "blink", "c0": "head_tilt"}


def test_ideal_selection_is_perfect():
    q = quality(ITEMS, DRAWING, KIND, ["a0", "b0", "c0"])
    o = q.overall
    assert (o.coverage, o.redundancy, o.precision, o.recall, o.f1) == (1.0, 1.0, 1.0, 1.0, 1.0)
    assert (o.tp, o.fp, o.fn, o.items, o.drawings) == (3, 0, 0, 6, 3)
    assert q.by_kind["expression"].coverage == 1.0 and q.by_kind["hold"].recall == 1.0
    assert q.by_kind["hold"].drawings == 0 and q.by_kind["hold"].coverage is None


def test_keeping_everything_is_full_coverage_with_redundancy():
    q = quality(ITEMS, DRAWING, KIND, ITEMS)
    o = q.overall
    assert o.coverage == 1.0 and o.redundancy == pytest.approx(6 / 3)
    assert (o.tp, o.fp, o.fn) == (0, 0, 3) and o.recall == 0.0 and o.precision is None and o.f1 is None
    # the missed duplicates are counted in the kind of copy that was kept
    assert q.by_kind["jpeg"].fn == 1 and q.by_kind["hold"].fn == 1 and q.by_kind["blink"].fn == 1
    assert q.by_kind["expression"].fn == 0


def test_merging_a_distinct_drawing_is_a_false_positive_of_its_kind():
    # B (an arm move) lost entirely; A kept twice (its JPEG copy survived)
    q = quality(ITEMS, DRAWING, KIND, ["a0", "a2", "c0"])
    o = q.overall
    assert o.coverage == pytest.approx(2 / 3) and o.redundancy == pytest.approx(3 / 2)
    assert (o.tp, o.fp, o.fn) == (2, 1, 1)  # a1 and b1 dropped right, B lost, a2 missed
    assert o.precision == pytest.approx(2 / 3) and o.recall == pytest.approx(2 / 3)
    assert o.f1 == pytest.approx(2 / 3)
    arm = q.by_kind["arm"]
    assert (arm.drawings, arm.covered, arm.fp, arm.coverage) == (1, 0, 1, 0.0)
    assert q.by_kind["blink"].tp == 1 and q.by_kind["jpeg"].fn == 1


def test_a_copy_may_stand_in_for_its_drawing():
    # the base of A dropped but its hold kept: A is covered, the drop was right
    q = quality(ITEMS, DRAWING, KIND, ["a1", "b0", "c0"])
    assert q.overall.coverage == 1.0 and q.overall.fp == 0 and q.by_kind["expression"].tp == 1
    assert q.by_kind["expression"].coverage == 1.0


def test_order_decides_the_drawing_kind_and_tables_print():
    q = quality(["a2", "a0"], {"a0": "A", "a2": "A"}, {"a0": "expression", "a2": "jpeg"}, [])
    assert q.by_kind["jpeg"].drawings == 1 and q.by_kind["jpeg"].fp == 1 and q.by_kind["expression"].tp == 1
    text = q.table("demo")
    assert text.splitlines()[0] == "demo" and "jpeg" in text and text.splitlines()[-1].startswith("all")
    d = q.to_dict()
    assert d["overall"]["coverage"] == 0.0 and d["by_kind"]["jpeg"]["precision"] == 0.0


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="not in the truth"):
        quality(ITEMS, DRAWING, KIND, ["zz"])
    with pytest.raises(ValueError, match="no drawing id"):
        quality(ITEMS + ["d0"], DRAWING, KIND, [])
    with pytest.raises(ValueError, match="repeat"):
        quality(["a0", "a0"], DRAWING, KIND, [])
