"""Run asfl on another copy of the spec: `asfl --spec DIR COMMAND ...` (issue 13, the spec-diff audit).

`use_spec(DIR)` makes `asfl.spec` the package in DIR (a folder with the spec's modules and its
`__init__.py`) for the rest of this process: the package is created from DIR's `__init__.py` with
DIR as its only search path, so every `asfl.spec.X` the engine imports afterwards is DIR's `X.py`.
It must run before anything imports `asfl.spec`, which is why the audit runs each side of a
spec diff in a fresh interpreter (`asfl --spec DIR ...`, or `properties/audit/spec_side.py`)
and never swaps modules in a process that already imported the installed spec.

A spec that does not import is bad input: one line naming the folder and the error, exit 2.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from .errors import UsageError


def spec_dir(path: str | Path) -> Path:
    """The spec folder `path` names: the folder itself when it holds `__init__.py` and `world.py`,
    or its `spec/` subfolder (a checkout); anything else is refused in one line."""
    p = Path(path)
    for candidate in (p, p / "spec"):
        if (candidate / "__init__.py").is_file() and (candidate / "world.py").is_file():
            return candidate.resolve()
    what = "a directory, but not a spec folder" if p.is_dir() else "not a spec folder"
    raise UsageError(f"{path}: {what} (no __init__.py and world.py in it nor in {p / 'spec'})")


def use_spec(path: str | Path) -> Path:
    """Make `asfl.spec` the spec in `path` for this process (see the module docstring)."""
    root = spec_dir(path)
    loaded = sys.modules.get("asfl.spec")
    if loaded is not None:
        if Path(loaded.__path__[0]).resolve() == root:
            return root
        raise UsageError(f"--spec {path}: this process already imported the spec from {loaded.__path__[0]}")
    spec = importlib.util.spec_from_file_location(
        "asfl.spec", root / "__init__.py", submodule_search_locations=[str(root)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["asfl.spec"] = module
    try:
        spec.loader.exec_module(module)
    except Exception as e:  # noqa: BLE001 - the changed spec's own error: bad input, said in one line
        for name in [n for n in sys.modules if n == "asfl.spec" or n.startswith("asfl.spec.")]:
            del sys.modules[name]
        first = (str(e).splitlines() or [""])[0][:160]
        where = ""
        tb = e.__traceback__
        while tb is not None:  # the innermost frame inside the spec folder names the file and line
            if str(root) in tb.tb_frame.f_code.co_filename:
                where = f" at {Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}"
            tb = tb.tb_next
        if isinstance(e, SyntaxError) and e.filename:
            where = f" at {Path(e.filename).name}:{e.lineno}"
        raise UsageError(f"{path}: the spec does not import ({type(e).__name__}{where}: {first})") from None
    import asfl

    asfl.spec = module  # type: ignore[attr-defined]
    module.__dict__[OVERLAY] = str(root)
    return root


#: the attribute of the `asfl.spec` package that names the folder `use_spec` made it from
OVERLAY = "__asfl_spec_dir__"


def command_prefix() -> str:
    """`asfl --spec DIR ` when this process runs on an overlaid spec (for the commands a report
    suggests, such as `asfl replay`), else `asfl `."""
    spec = sys.modules.get("asfl.spec")
    folder = getattr(spec, OVERLAY, None)
    return f"asfl --spec {folder} " if folder else "asfl "
