"""Visible tests that fairly preview the hidden ones (issue 11).

For every assignment under ``solutions/``, each category of input a hidden check call uses (see
``tests/grading/preview.py`` for what a category is) appears in a visible call too, with other
numbers; and ``tests/visible_hidden.md``, the table of the categories, is current. Nothing here
runs a notebook: the test cells are read with ``ast``.
"""

from __future__ import annotations

import textwrap

import pytest

from tests.grading import preview as P

CALLS = P.all_calls()
ASSIGNMENTS = sorted({c.assignment for c in CALLS})


def test_every_assignment_has_visible_and_hidden_calls():
    """The parse found the test cells: each assignment's calls split into both parts."""
    solutions = sorted(p.name for p in (P.ROOT / "solutions").iterdir() if p.is_dir())
    assert ASSIGNMENTS == solutions
    for a in ASSIGNMENTS:
        mine = [c for c in CALLS if c.assignment == a]
        assert any(c.hidden for c in mine) and any(not c.hidden for c in mine), a


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_hidden_category_has_a_visible_call(assignment):
    mine = [c for c in CALLS if c.assignment == assignment]
    visible = {c.category for c in mine if not c.hidden}
    unseen = sorted({c.category for c in mine if c.hidden} - visible)
    assert not unseen, (
        f"{assignment}: hidden tests use inputs no visible test shows; add a visible call of each "
        "category, with other numbers than the hidden one:\n  " + "\n  ".join(unseen)
    )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_hidden_call_is_a_copy_of_a_visible_one(assignment):
    """A visible preview has other numbers: a hidden call equal to a visible one up to its seed
    (and 0 written as 0.0) would be a hidden test shown to the student."""
    mine = [c for c in CALLS if c.assignment == assignment]
    visible = {c.numbers for c in mine if not c.hidden}
    copies = [f"{c.cell}: {c.source}" for c in mine if c.hidden and c.numbers in visible]
    assert not copies, "hidden calls that are also visible:\n  " + "\n  ".join(copies)


def test_the_table_matches_the_notebooks():
    expected = P.table(CALLS)
    current = P.TABLE.read_text() if P.TABLE.exists() else ""
    assert current == expected, (
        f"{P.TABLE.relative_to(P.ROOT)} is out of date with the notebooks' test cells; "
        f"regenerate it from the repository's root with `.venv/bin/{P.REGENERATE}` and commit it"
    )


def _calls(source: str, assignment: str = "exA", cell: str = "c") -> list[P.Call]:
    return P.cell_calls(assignment, cell, textwrap.dedent(source))


def test_categories_follow_the_definition():
    calls = _calls('''
        """A docstring is skipped."""
        check_fans(compute_fans, (5, 3, 64, 40))
        check_fans(compute_fans, ())
        data = np.random.default_rng(3).normal(-2.0, 4.0, size=(40, 50))
        for name in ("conv1d", "tanh"):
            check_gain(calculate_gain, name)
        ### BEGIN HIDDEN TESTS
        check_variance(he, (7, 64, 96), scale=2 / 1, mode="fan_in", seed=44)
        check_gain(calculate_gain, "leaky_relu", 0.0)
        check_forward_stds(forward_stds, "relu", [64, 128], gain=math.sqrt(2), seed=3)
        check_sat(saturated_fraction, data ** 3, -1)
        y = rng.normal(size=(20, 5))
        y[:, 2] = -2.5
        check_raises(init_mlp, ([4, 3, 2], "random", y), ValueError, mentions="random")
        ### END HIDDEN TESTS
        check_array(lecun_normal, (7,), seed=1)
    ''')
    assert [(c.hidden, c.function, c.category) for c in calls] == [
        (False, "compute_fans", "check_fans(compute_fans, 4-D shape)"),
        (False, "compute_fans", "check_fans(compute_fans, empty shape)"),
        (False, "calculate_gain", "check_gain(calculate_gain, 'conv1d')"),
        (False, "calculate_gain", "check_gain(calculate_gain, 'tanh')"),
        (True, "he", "check_variance(he, 3-D shape, scale=positive, mode='fan_in')"),
        (True, "calculate_gain", "check_gain(calculate_gain, 'leaky_relu', zero)"),
        (True, "forward_stds", "check_forward_stds(forward_stds, 'relu', list of 2 positive, "
                               "gain=positive)"),
        (True, "saturated_fraction", "check_sat(saturated_fraction, normal(negative, positive, "
                                     "size=2-D shape) ** positive, negative)"),
        (True, "init_mlp", "check_raises(init_mlp, (list of 3 positive, rejected name, "
                           "normal(size=2-D shape), with entries set), ValueError, "
                           "mentions=rejected name)"),
        (False, "lecun_normal", "check_array(lecun_normal, 1-D shape)"),
    ]
    assert calls[2].source == "check_gain(calculate_gain, 'conv1d')"


def test_copies_are_told_from_other_numbers():
    same, other, visible = _calls('''
        check_gain(calculate_gain, "leaky_relu", 0.0, seed=4)
        check_gain(calculate_gain, "leaky_relu", 0.5)
        check_gain(calculate_gain, "leaky_relu", 0)
    ''')
    assert same.category == visible.category != other.category
    assert same.numbers == visible.numbers != other.numbers
    z1, z2, z3 = _calls('''
        z = rng.normal(0.0, 3.0, size=500)
        check_sat(saturated_fraction, z)
        z = rng.normal(0.0, 3.0, size=600)
        check_sat(saturated_fraction, z)
        check_sat(saturated_fraction, rng.normal(0.0, 3.0, size=500))
    ''')
    assert z1.category == z2.category == z3.category
    assert z1.numbers == z3.numbers != z2.numbers  # a name stands for its value


def test_a_statement_the_definition_does_not_cover_is_an_error():
    """A new kind of statement in a test cell (a while loop, a with block) must be defined before
    it is counted, not skipped silently."""
    with pytest.raises(ValueError, match="cannot read"):
        _calls("while True:\n    check_fans(compute_fans, (3, 4))\n")
    with pytest.raises(SyntaxError):
        _calls("check_fans(compute_fans, (3, 4)\n")
