"""mkdocs hooks: the error table of docs/errors.md, made from tradewire/errors.py at build time.

tradewire/errors.py imports nothing of tradewire (a rule of the house), so it is loaded from its
file and the docs build needs no built extension.
"""

from __future__ import annotations

import importlib.util
import inspect
from pathlib import Path
from typing import Any

_ERRORS = Path(__file__).parent.parent / "python" / "tradewire" / "errors.py"
_MARKER = "<!-- errors-table -->"


def _load() -> Any:
    spec = importlib.util.spec_from_file_location("tradewire_errors_for_docs", _ERRORS)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {_ERRORS}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def error_table() -> str:
    """One row per class of tradewire.errors, in the file's order."""
    module = _load()
    rows = ["| class | derives from | what it means | hint |", "|---|---|---|---|"]
    for name, cls in vars(module).items():
        if not (inspect.isclass(cls) and issubclass(cls, BaseException)):
            continue
        if cls.__module__ != module.__name__:
            continue
        bases = ", ".join(f"`{b.__name__}`" for b in cls.__bases__)
        doc = inspect.getdoc(cls) or ""
        first = doc.split("\n\n", 1)[0]
        hint = getattr(cls, "default_hint", "")
        rows.append(f"| `{name}` | {bases} | {_cell(first)} | {_cell(hint)} |")
    return "\n".join(rows)


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    if _MARKER in markdown:
        return markdown.replace(_MARKER, error_table())
    return markdown
