"""Hand-edited TOML files (broadcast grids, outcome measures): every problem is collected and
reported at once, each naming the file, the key path and, where it can be found, the line."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any


class TomlFileError(ValueError):
    """Every problem found in a file, each naming the file and the key (or line)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class TomlReader:
    """Validates the parsed TOML, collecting every problem rather than stopping at the first."""

    def __init__(self, name: str, text: str = "") -> None:
        self.name = name
        self.lines = text.splitlines()
        self.problems: list[str] = []

    def problem(self, key: str, message: str, line: int | None = None) -> None:
        at = f" (line {line})" if line else ""
        self.problems.append(f"{self.name}: {key}{at}: {message}")

    def line_of(self, table: str, index: int | None, key: str) -> int | None:
        """The line of ``key = …`` in the table ``[table.name]`` (``index`` None), in the
        ``index``-th ``[[table]]``, or before the first table (``table`` empty); None when the
        file spells it otherwise (inline tables)."""
        header = (
            re.compile(rf"^\s*\[\[\s*{re.escape(table)}\s*\]\]")
            if index is not None
            else re.compile(rf"^\s*\[\s*{re.escape(table)}\s*\]")
        )
        assignment = re.compile(rf"^\s*{re.escape(key)}\s*=")
        seen, inside = -1, not table
        for number, text in enumerate(self.lines, start=1):
            if header.match(text):
                seen += 1
                inside = index is None or seen == index
            elif text.lstrip().startswith("["):
                inside = False
            elif inside and assignment.match(text):
                return number
        return None

    def get(
        self, table: dict[str, Any], key: str, where: str, kind: type | tuple, required: bool = True
    ) -> Any:
        if key not in table:
            if required:
                self.problem(f"{where}{key}", "missing")
            return None
        value = table[key]
        if (isinstance(value, bool) and kind is int) or not isinstance(value, kind):
            expected = (
                kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            )
            self.problem(f"{where}{key}", f"expected {expected}, got {value!r}")
            return None
        return value

    def unknown(self, table: dict[str, Any], allowed: set[str], where: str) -> None:
        for key in table:
            if key not in allowed:
                self.problem(
                    f"{where}{key}", f"unknown key (expected one of {', '.join(sorted(allowed))})"
                )


def read_toml(path: Path) -> tuple[TomlReader, dict[str, Any]]:
    """Parse a file, or raise TomlFileError for a missing, undecodable or malformed one (the
    parser's message carries the line and column)."""
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
        reader = TomlReader(name, text)
        data = tomllib.loads(text)
    except FileNotFoundError:
        raise TomlFileError([f"{name}: no such file"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise TomlFileError([f"{name}: not valid TOML: {exc}"]) from None
    except UnicodeDecodeError:
        raise TomlFileError([f"{name}: not UTF-8 text"]) from None
    return reader, data
