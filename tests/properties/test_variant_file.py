"""Variant files: a changed protocol without editing asfl, and one-line errors naming file and line."""

from __future__ import annotations

import textwrap

import pytest
from asfl.properties.audit.variant_file import VariantError, load, make_variant
from asfl.spec import STANDARD, Params

GOOD = """
NAME = "endorse-twice"
DESCRIPTION = "endorsers answer a second set of one (round, cluster)"


def endorse_any(ctx, j, endorsed, src, msg):
    return None


RULES = {"endorse_problem": endorse_any}
THRESHOLD = "t_a + 1"
PARAMS = {"s_max": 0}
"""


def _write(tmp_path, text, name="variant.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_a_variant_is_a_new_rule_table_and_parameter_formulas(tmp_path):
    v = load(_write(tmp_path, GOOD))
    assert v.name == "endorse-twice" and v.rules.name == "endorse-twice"
    assert v.rules.endorse_problem is not STANDARD.endorse_problem
    assert v.rules.fix_set is STANDARD.fix_set  # everything else is the standard rule
    assert STANDARD.endorse_problem.__name__ == "standard_endorse_problem"  # nothing patched
    p = v.apply(Params(n_c=8, t_c=1, n_a=4, t_a=1))
    assert (p.T, p.s_max) == (2, 0) and [c.name for c in p.violations()] == ["Q2 set uniqueness"]
    assert v.changes == ["rule endorse_problem", "T = t_a + 1", "s_max = 0"]


@pytest.mark.parametrize(
    "text, line, needle",
    [
        ("NAME = 'x'\nDESCRIPTION = 'y'\nRULES = {'fix_set': lambda p:\n", 3, "syntax error"),
        ("NAME = 'x'\nDESCRIPTION = 'y'\nRULES = {'fix_set': undefined_fn}\n", 3, "NameError"),
        ("DESCRIPTION = 'y'\n", 1, "NAME must be a one-line string"),
        ("NAME = 'x'\nDESCRIPTION = 'y'\nRULES = {\n  'fix_sets': print,\n}\n", 4, "unknown rule 'fix_sets'"),
        (
            "NAME = 'x'\nDESCRIPTION = 'y'\n\ndef fix(params):\n    return None\n\n"
            "RULES = {'fix_set': fix}\n",
            4,
            "rule 'fix_set' is called with (params, held); fix takes (params)",
        ),
        ("NAME = 'x'\nDESCRIPTION = 'y'\nTHRESHOLD = 'n_a - __import__(1)'\n", 3, "THRESHOLD:"),
        ("NAME = 'x'\nDESCRIPTION = 'y'\nPARAMS = {'n_a': 7}\n", 3, "PARAMS cannot set n_a"),
        ("NAME = 'x'\nDESCRIPTION = 'y'\nRULES = {'fix_set': 3}\n", 3, "must be a function"),
    ],
)
def test_bad_variant_files_get_one_line_naming_file_line_and_problem(tmp_path, text, line, needle):
    path = _write(tmp_path, text)
    with pytest.raises(VariantError) as e:
        load(path)
    message = str(e.value)
    assert "\n" not in message
    assert message.startswith(f"{path}:{line}: "), message
    assert needle in message


def test_missing_file(tmp_path):
    with pytest.raises(VariantError, match="cannot read"):
        load(tmp_path / "nope.py")


def test_make_variant_builds_the_same_thing_in_python():
    v = make_variant("wait-all", "average only with all n_a clusters", {"averaging_quorum": lambda p: p.n_a})
    assert v.rules.averaging_quorum(Params(n_c=8, t_c=1, n_a=4, t_a=1)) == 4
    assert v.changes == ["rule averaging_quorum"]


def test_the_shipped_policy_file_is_the_spec_paced_table():
    """properties/audit/policies/paced.py (installed with the package) replaces exactly I2's release rule
    with the spec's paced one, so `asfl audit` on it audits `PACED` (docs/protocol.md, deviation 12)."""
    from pathlib import Path

    import asfl.properties
    from asfl.spec import PACED

    variant = load(Path(asfl.properties.__file__).parent / "audit" / "policies" / "paced.py")
    assert variant.name == PACED.name and variant.changes == ["rule i2_releases_data"]
    assert variant.rules.i2_releases_data is PACED.i2_releases_data
    assert variant.rules.replaced() == PACED.replaced()
