"""Outcome measures as data: one TOML file per measure and version.

A charity loads each licensed scale from its own copy (``flask --app wsgi measures load FILE``),
so readerapp holds no licensed wording; the ONS4 questions, free to use with acknowledgement,
ship in ``builtin/``. A file looks like::

    key = "calm7"                  # stable name of the measure: a-z, 0-9, _ and -
    name = "Calm scale (7 items)"
    version = "2"                  # a new version never rewrites answers given to an old one
    acknowledgement = "Calm scale © …, used under licence"   # shown wherever the measure is
    uses = ["participant"]         # by participant code, and/or "anonymous" (no code)
    scoring = "total"              # "per_item" (each item on its own) or "total" (summed)
    higher_is_better = true        # per item too, for items scored the other way round
    meaningful_change = 3          # optional: a person's change read as meaningful
    minimum_pairs = 30             # people with two answer sets before drawing conclusions

    [responses]                    # the answers every item offers, unless an item says otherwise
    options = [{ value = 1, label = "None of the time" }, …]   # or: min, max and end labels

    [[items]]
    key = "item1"
    text = "…"                     # exactly as licensed: shown as written, never altered

    [conversion]                   # optional, with scoring = "total": raw total → metric score
    7 = 7.0
    …

Every problem in a file is reported at once, naming the file, the key and, where it can be found,
the line. The definition is stored as JSON (``as_json``) beside a checksum of it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..tomlfile import TomlFileError, TomlReader, read_toml
from .limits import (
    ACKNOWLEDGEMENT,
    ITEM_LABEL,
    ITEM_TEXT,
    ITEMS,
    MEASURE_NAME,
    MEASURE_VERSION,
    OPTION_LABEL,
    OPTIONS,
    RESPONSE_RANGE,
)

BUILTIN_DIRECTORY = Path(__file__).parent / "builtin"
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{1,39}$")
USES = ("participant", "anonymous")
USE_LABELS = {"participant": "By participant code", "anonymous": "Anonymous (no code)"}
SCORINGS = ("per_item", "total")
SCORING_LABELS = {"per_item": "Each item on its own, never summed", "total": "Total of the items"}
DEFAULT_MINIMUM_PAIRS = 30
TOP_KEYS = {
    "key",
    "name",
    "version",
    "acknowledgement",
    "uses",
    "scoring",
    "higher_is_better",
    "meaningful_change",
    "minimum_pairs",
    "responses",
    "items",
    "conversion",
}
ITEM_KEYS = {"key", "label", "text", "higher_is_better", "responses"}
RESPONSE_KEYS = {"options", "min", "max", "labels"}


class MeasureFileError(TomlFileError):
    """Every problem found in a measure file, each naming the file and the key (or line)."""


@dataclass(frozen=True)
class Option:
    value: int
    label: str  # empty between the labelled ends of a numeric scale


@dataclass(frozen=True)
class Item:
    key: str
    label: str
    text: str
    higher_is_better: bool
    options: tuple[Option, ...]

    @property
    def lowest(self) -> int:
        return self.options[0].value

    @property
    def highest(self) -> int:
        return self.options[-1].value


@dataclass(frozen=True)
class MeasureDefinition:
    key: str
    name: str
    version: str
    acknowledgement: str
    uses: tuple[str, ...]
    scoring: str
    higher_is_better: bool
    meaningful_change: float | None
    minimum_pairs: int
    items: tuple[Item, ...]
    conversion: dict[int, float] | None

    def as_json(self) -> dict[str, Any]:
        """The whole definition, as stored (and as ``from_json`` reads it back)."""
        return {
            "key": self.key,
            "name": self.name,
            "version": self.version,
            "acknowledgement": self.acknowledgement,
            "uses": list(self.uses),
            "scoring": self.scoring,
            "higher_is_better": self.higher_is_better,
            "meaningful_change": self.meaningful_change,
            "minimum_pairs": self.minimum_pairs,
            "items": [
                {
                    "key": item.key,
                    "label": item.label,
                    "text": item.text,
                    "higher_is_better": item.higher_is_better,
                    "options": [[o.value, o.label] for o in item.options],
                }
                for item in self.items
            ],
            # JSON object keys are strings: the raw totals are written as such.
            "conversion": (
                None
                if self.conversion is None
                else {str(raw): score for raw, score in sorted(self.conversion.items())}
            ),
        }

    @property
    def checksum(self) -> str:
        """Identifies the content: the same file loaded twice is recognised, an edited one too."""
        text = json.dumps(self.as_json(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    @property
    def raw_range(self) -> tuple[int, int]:
        """The lowest and highest possible total of a complete answer set."""
        return sum(i.lowest for i in self.items), sum(i.highest for i in self.items)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MeasureDefinition:
        conversion = data.get("conversion")
        return cls(
            key=data["key"],
            name=data["name"],
            version=data["version"],
            acknowledgement=data["acknowledgement"],
            uses=tuple(data["uses"]),
            scoring=data["scoring"],
            higher_is_better=data["higher_is_better"],
            meaningful_change=data.get("meaningful_change"),
            minimum_pairs=data["minimum_pairs"],
            items=tuple(
                Item(
                    key=item["key"],
                    label=item["label"],
                    text=item["text"],
                    higher_is_better=item["higher_is_better"],
                    options=tuple(Option(value, label) for value, label in item["options"]),
                )
                for item in data["items"]
            ),
            conversion=(
                None
                if conversion is None
                else {int(raw): float(score) for raw, score in conversion.items()}
            ),
        )


def builtin_paths() -> list[Path]:
    """The measures that ship with readerapp (free to use with their acknowledgement)."""
    return sorted(BUILTIN_DIRECTORY.glob("*.toml"))


def read_measure(path: Path) -> MeasureDefinition:
    """Read and check a measure file; raises MeasureFileError listing every problem."""
    try:
        reader, data = read_toml(path)
    except TomlFileError as exc:
        raise MeasureFileError(exc.problems) from None
    definition = _Checker(reader).measure(data)
    if reader.problems or definition is None:
        raise MeasureFileError(reader.problems or [f"{reader.name}: not a measure"])
    return definition


class _Checker:
    def __init__(self, reader: TomlReader) -> None:
        self.reader = reader

    def problem(self, key: str, message: str, line: int | None = None) -> None:
        self.reader.problem(key, message, line)

    def text(
        self, table: dict[str, Any], key: str, where: str, limit: int, line: int | None
    ) -> str | None:
        value = self.reader.get(table, key, where, str)
        if value is None:
            return None
        if not value.strip():
            self.problem(f"{where}{key}", "must not be blank", line)
            return None
        if len(value) > limit:
            self.problem(f"{where}{key}", f"longer than {limit} characters", line)
            return None
        return value.strip()

    def measure(self, data: dict[str, Any]) -> MeasureDefinition | None:
        reader = self.reader
        reader.unknown(data, TOP_KEYS, "")

        def top(key: str) -> int | None:
            return reader.line_of("", None, key)

        key = reader.get(data, "key", "", str)
        if key is not None and not KEY_PATTERN.match(key):
            self.problem(
                "key",
                "use 2 to 40 lowercase letters, digits, _ or -, starting with a letter",
                top("key"),
            )
            key = None
        name = self.text(data, "name", "", MEASURE_NAME, top("name"))
        version = self.text(data, "version", "", MEASURE_VERSION, top("version"))
        acknowledgement = self.text(
            data, "acknowledgement", "", ACKNOWLEDGEMENT, top("acknowledgement")
        )
        uses = self.uses(data, top("uses"))
        scoring = reader.get(data, "scoring", "", str)
        if scoring is not None and scoring not in SCORINGS:
            self.problem("scoring", f"expected one of {', '.join(SCORINGS)}", top("scoring"))
            scoring = None
        higher = reader.get(data, "higher_is_better", "", bool, required=False)
        higher = True if higher is None else higher
        change = self.meaningful_change(data, top("meaningful_change"))
        pairs = reader.get(data, "minimum_pairs", "", int, required=False)
        if pairs is None:
            pairs = DEFAULT_MINIMUM_PAIRS
        elif pairs < 2:
            self.problem("minimum_pairs", "must be at least 2", top("minimum_pairs"))
        shared = None
        if "responses" in data:
            shared = self.responses(data["responses"], "responses.", "responses", None)
        items = self.items(data, shared, higher)
        conversion = self.conversion(data, scoring, items)
        if reader.problems or None in (key, name, version, acknowledgement, uses, scoring):
            return None
        assert key and name and version and acknowledgement and uses and scoring and items
        return MeasureDefinition(
            key=key,
            name=name,
            version=version,
            acknowledgement=acknowledgement,
            uses=uses,
            scoring=scoring,
            higher_is_better=higher,
            meaningful_change=change,
            minimum_pairs=pairs,
            items=items,
            conversion=conversion,
        )

    def uses(self, data: dict[str, Any], line: int | None) -> tuple[str, ...] | None:
        uses = self.reader.get(data, "uses", "", list)
        if uses is None:
            return None
        if not uses or any(u not in USES for u in uses) or len(set(uses)) != len(uses):
            self.problem("uses", f"list one or both of {', '.join(USES)}, each once", line)
            return None
        return tuple(uses)

    def meaningful_change(self, data: dict[str, Any], line: int | None) -> float | None:
        value = self.reader.get(data, "meaningful_change", "", (int, float), required=False)
        if value is None or isinstance(value, bool):
            if isinstance(value, bool):
                self.problem("meaningful_change", "expected a number", line)
            return None
        if value <= 0:
            self.problem("meaningful_change", "must be more than 0", line)
            return None
        return float(value)

    def responses(
        self, table: Any, where: str, table_name: str, index: int | None
    ) -> tuple[Option, ...] | None:
        """The answers an item offers: listed options, or a numeric range with end labels."""
        reader = self.reader
        key = where.rstrip(".")
        if not isinstance(table, dict):
            self.problem(key, "expected a table of options, or min and max")
            return None
        reader.unknown(table, RESPONSE_KEYS, where)
        line = reader.line_of(table_name, index, "options") or reader.line_of(
            table_name, index, "min"
        )
        if "options" in table:
            if {"min", "max", "labels"} & table.keys():
                self.problem(key, "give either options or min and max, not both", line)
                return None
            return self.listed_options(table["options"], f"{where}options", line)
        low = reader.get(table, "min", where, int)
        high = reader.get(table, "max", where, int)
        if low is None or high is None:
            return None
        if not (RESPONSE_RANGE.min <= low < high <= RESPONSE_RANGE.max):
            self.problem(
                key,
                f"min must be below max, both from {RESPONSE_RANGE.min} to {RESPONSE_RANGE.max}",
                line,
            )
            return None
        if high - low + 1 > OPTIONS.max:
            self.problem(key, f"at most {OPTIONS.max} possible answers", line)
            return None
        labels: dict[int, str] = {}
        line = reader.line_of(table_name, index, "labels")
        for raw, label in (reader.get(table, "labels", where, dict, required=False) or {}).items():
            try:
                value = int(raw)
            except ValueError:
                value = None
            if value is None or not low <= value <= high:
                self.problem(f"{where}labels.{raw}", f"not an answer from {low} to {high}", line)
            elif not isinstance(label, str) or not label.strip() or len(label) > OPTION_LABEL:
                self.problem(
                    f"{where}labels.{raw}", f"give a label of 1–{OPTION_LABEL} characters", line
                )
            else:
                labels[value] = label.strip()
        return tuple(Option(v, labels.get(v, "")) for v in range(low, high + 1))

    def listed_options(self, options: Any, key: str, line: int | None) -> tuple[Option, ...] | None:
        if not isinstance(options, list) or not OPTIONS.min <= len(options) <= OPTIONS.max:
            self.problem(key, f"list {OPTIONS.min} to {OPTIONS.max} options", line)
            return None
        found: list[Option] = []
        for number, option in enumerate(options):
            where = f"{key}[{number}]"
            value = option.get("value") if isinstance(option, dict) else None
            label = option.get("label") if isinstance(option, dict) else None
            if not isinstance(value, int) or isinstance(value, bool):
                self.problem(where, "give a whole-number value", line)
            elif not RESPONSE_RANGE.min <= value <= RESPONSE_RANGE.max:
                self.problem(
                    where, f"value must be {RESPONSE_RANGE.min} to {RESPONSE_RANGE.max}", line
                )
            elif not isinstance(label, str) or not label.strip() or len(label) > OPTION_LABEL:
                self.problem(where, f"give a label of 1–{OPTION_LABEL} characters", line)
            elif isinstance(option, dict) and set(option) - {"value", "label"}:
                self.problem(where, "an option has only a value and a label", line)
            else:
                found.append(Option(value, label.strip()))
        values = [o.value for o in found]
        if len(found) == len(options) and values != sorted(set(values)):
            self.problem(key, "values must rise, each once", line)
            return None
        return tuple(found) if len(found) == len(options) else None

    def items(
        self, data: dict[str, Any], shared: tuple[Option, ...] | None, higher: bool
    ) -> tuple[Item, ...] | None:
        reader = self.reader
        raw_items = reader.get(data, "items", "", list)
        if raw_items is None:
            return None
        if not ITEMS.min <= len(raw_items) <= ITEMS.max:
            self.problem("items", f"give {ITEMS.min} to {ITEMS.max} items")
            return None
        items: list[Item] = []
        keys: set[str] = set()
        for index, raw in enumerate(raw_items):
            where = f"items[{index}]."
            if not isinstance(raw, dict):
                self.problem(f"items[{index}]", "expected a table")
                continue
            reader.unknown(raw, ITEM_KEYS, where)
            key = reader.get(raw, "key", where, str)
            if key is not None and not KEY_PATTERN.match(key):
                self.problem(
                    f"{where}key",
                    "use 2 to 40 lowercase letters, digits, _ or -, starting with a letter",
                    reader.line_of("items", index, "key"),
                )
                key = None
            elif key is not None and key in keys:
                self.problem(
                    f"{where}key",
                    f"{key!r} is used by an earlier item",
                    reader.line_of("items", index, "key"),
                )
                key = None
            if key is not None:
                keys.add(key)
            text = self.text(raw, "text", where, ITEM_TEXT, reader.line_of("items", index, "text"))
            label = (
                self.text(raw, "label", where, ITEM_LABEL, reader.line_of("items", index, "label"))
                if "label" in raw
                else None
            )
            item_higher = reader.get(raw, "higher_is_better", where, bool, required=False)
            options = (
                self.responses(raw["responses"], f"{where}responses.", "items.responses", None)
                if "responses" in raw
                else shared
            )
            if options is None and "responses" not in raw and shared is None:
                self.problem(f"{where}responses", "missing (and the file has no [responses])")
            if key is None or text is None or options is None:
                continue
            items.append(
                Item(
                    key=key,
                    label=label or f"Item {index + 1}",
                    text=text,
                    higher_is_better=higher if item_higher is None else item_higher,
                    options=options,
                )
            )
        return tuple(items) if len(items) == len(raw_items) else None

    def conversion(
        self, data: dict[str, Any], scoring: str | None, items: tuple[Item, ...] | None
    ) -> dict[int, float] | None:
        """Raw total → metric score: every possible total of a complete set, each once."""
        if "conversion" not in data:
            return None
        line = self.reader.line_of("", None, "conversion") or _header_line(
            self.reader, "conversion"
        )
        table = self.reader.get(data, "conversion", "", dict)
        if table is None:
            return None
        if scoring == "per_item":
            self.problem("conversion", 'a conversion table needs scoring = "total"', line)
            return None
        table_out: dict[int, float] = {}
        for raw, score in table.items():
            try:
                total = int(raw)
            except ValueError:
                self.problem(f"conversion.{raw}", "the key must be a whole-number raw total", line)
                continue
            if isinstance(score, bool) or not isinstance(score, int | float):
                self.problem(f"conversion.{raw}", f"expected a number, got {score!r}", line)
                continue
            table_out[total] = float(score)
        if items is None or len(table_out) != len(table):
            return None
        low = sum(i.lowest for i in items)
        high = sum(i.highest for i in items)
        missing = [t for t in range(low, high + 1) if t not in table_out]
        extra = sorted(t for t in table_out if not low <= t <= high)
        if missing:
            shown = ", ".join(str(t) for t in missing[:5]) + (" …" if len(missing) > 5 else "")
            self.problem("conversion", f"no score for the raw totals {shown}", line)
        if extra:
            self.problem(
                "conversion",
                f"raw totals outside {low}–{high}: {', '.join(str(t) for t in extra[:5])}",
                line,
            )
        return None if missing or extra else table_out


def _header_line(reader: TomlReader, table: str) -> int | None:
    header = re.compile(rf"^\s*\[\s*{re.escape(table)}\s*\]")
    for number, text in enumerate(reader.lines, start=1):
        if header.match(text):
            return number
    return None
