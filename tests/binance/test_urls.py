"""Binance's URLs: defined once in tradewire.binance.urls, and the examples in its docstring run."""

from __future__ import annotations

import ast
import doctest
import re
from pathlib import Path

import tradewire
from tradewire.binance import urls
from tradewire.binance.urls import BINANCE, TESTNET, endpoints

_HOST = re.compile(r"binance\.(com|vision)", re.IGNORECASE)


def test_the_docstring_examples_hold() -> None:
    result = doctest.testmod(urls, verbose=False)
    assert result.attempted >= 2 and result.failed == 0


def test_each_url_follows_its_rest_url() -> None:
    assert endpoints(TESTNET.rest_url + "/") == TESTNET
    assert endpoints("https://127.0.0.1:9443").stream_url == "wss://127.0.0.1:9443"
    assert endpoints(BINANCE.rest_url, ws_api_url="wss://x/ws-api/v3").ws_api_url == (
        "wss://x/ws-api/v3"
    )


def _code_strings(tree: ast.AST) -> list[str]:
    """The string constants of a module that are not docstrings."""
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_no_other_module_writes_a_binance_url() -> None:
    package = Path(tradewire.__file__).parent
    elsewhere = {
        str(path.relative_to(package)): hits
        for path in sorted(package.rglob("*.py"))
        if path != Path(urls.__file__)
        for hits in [[s for s in _code_strings(ast.parse(path.read_text())) if _HOST.search(s)]]
        if hits
    }
    assert elsewhere == {}
