"""Outcome measures as data: the ONS4 questions ship with readerapp; a charity loads each licensed
scale from its own copy, versioned, with every problem in a file named by key and line.

The licensed-style measure here is made up ("Calm scale"): no licensed wording is used."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from readerapp.extensions import db
from readerapp.outcomes.definitions import (
    MeasureDefinition,
    MeasureFileError,
    builtin_paths,
    read_measure,
)
from readerapp.outcomes.models import Measure, MeasureVersion
from readerapp.outcomes.operations import (
    MeasureLoadError,
    load_builtin_measures,
    load_measure_file,
)

from .world import sign_in_as

# A 7-item scale answered 1–5, totalled 7–35 and converted with a (made-up) table.
CALM_TABLE = {raw: round(7 + (raw - 7) * 1.1, 2) for raw in range(7, 36)}


def calm_file(
    tmp_path: Path, version: str = "1", first_item: str = "I have felt calm", **extra: str
) -> Path:
    items = "\n".join(
        f'[[items]]\nkey = "item{n}"\ntext = "{first_item if n == 1 else f"Made-up item {n}"}"\n'
        for n in range(1, 8)
    )
    conversion = "\n".join(f"{raw} = {score}" for raw, score in CALM_TABLE.items())
    head = {
        "key": '"calm7"',
        "name": '"Calm scale (7 items)"',
        "version": f'"{version}"',
        "acknowledgement": '"Calm scale © Example University, used under licence"',
        "uses": '["participant"]',
        "scoring": '"total"',
        "meaningful_change": "3",
    } | extra
    lines = "\n".join(f"{key} = {value}" for key, value in head.items() if value)
    text = f"""{lines}

[responses]
options = [
  {{ value = 1, label = "None of the time" }},
  {{ value = 2, label = "Rarely" }},
  {{ value = 3, label = "Some of the time" }},
  {{ value = 4, label = "Often" }},
  {{ value = 5, label = "All of the time" }},
]

{items}
[conversion]
{conversion}
"""
    path = tmp_path / f"calm-{version}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(MeasureFileError) as caught:
        read_measure(path)
    return caught.value.problems


def write(tmp_path: Path, text: str, name: str = "measure.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_ons4_ships_with_its_acknowledgement_and_is_scored_item_by_item() -> None:
    (path,) = builtin_paths()
    ons4 = read_measure(path)
    assert ons4.key == "ons4" and ons4.scoring == "per_item" and ons4.conversion is None
    assert [i.key for i in ons4.items] == [
        "life_satisfaction",
        "worthwhile",
        "happiness",
        "anxiety",
    ]
    assert all((i.lowest, i.highest) == (0, 10) for i in ons4.items)
    assert [i.higher_is_better for i in ons4.items] == [True, True, True, False]
    assert "Office for National Statistics" in ons4.acknowledgement
    assert set(ons4.uses) == {"participant", "anonymous"}


def test_a_licensed_style_measure_with_a_conversion_table_reads_back_from_storage(
    tmp_path: Path,
) -> None:
    calm = read_measure(calm_file(tmp_path))
    assert len(calm.items) == 7 and calm.raw_range == (7, 35)
    assert calm.items[0].options[0].label == "None of the time"
    assert calm.conversion == {raw: float(score) for raw, score in CALM_TABLE.items()}
    assert calm.minimum_pairs == 30 and calm.meaningful_change == 3.0
    # Stored as JSON (keys become strings) and read back unchanged.
    stored = json.loads(json.dumps(calm.as_json()))
    assert MeasureDefinition.from_json(stored) == calm
    assert MeasureDefinition.from_json(stored).checksum == calm.checksum


def test_loading_is_versioned_and_never_rewrites_a_loaded_version(tmp_path: Path) -> None:
    first = load_measure_file(calm_file(tmp_path))
    assert first.outcome == "new measure"
    assert load_measure_file(calm_file(tmp_path)).outcome == "unchanged"
    # The same version with other wording is refused: answers keep the wording they were given.
    with pytest.raises(MeasureLoadError, match="already loaded with different content"):
        load_measure_file(calm_file(tmp_path, first_item="I have felt relaxed"))
    second = load_measure_file(calm_file(tmp_path, version="2", first_item="I have felt relaxed"))
    assert second.outcome == "new version"
    db.session.commit()
    measure = db.session.scalar(sa.select(Measure).filter_by(key="calm7"))
    assert measure is not None
    assert [v.version for v in measure.versions] == ["1", "2"]
    assert measure.versions[0].definition["items"][0]["text"] == "I have felt calm"
    assert measure.versions[1].definition["items"][0]["text"] == "I have felt relaxed"
    assert measure.versions[0].source == "calm-1.toml"


def test_builtin_measures_load_once_and_their_keys_are_reserved(tmp_path: Path) -> None:
    assert [m.outcome for m in load_builtin_measures()] == ["new measure"]
    assert [m.outcome for m in load_builtin_measures()] == ["unchanged"]
    db.session.commit()
    taken = calm_file(tmp_path, key='"ons4"')
    with pytest.raises(MeasureLoadError, match="ships with readerapp"):
        load_measure_file(taken)


def test_the_command_loads_checks_and_dry_runs(app: Flask, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    path = calm_file(tmp_path)
    dry = runner.invoke(args=["measures", "load", str(path), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "calm7 version 1: new measure" in dry.output and "nothing was written" in dry.output
    assert db.session.scalar(sa.select(sa.func.count(Measure.id))) == 0

    done = runner.invoke(args=["measures", "load", str(path)])
    assert done.exit_code == 0 and "new measure" in done.output
    again = runner.invoke(args=["measures", "load", str(path)])
    assert "calm7 version 1: unchanged" in again.output

    changed = runner.invoke(
        args=["measures", "load", str(calm_file(tmp_path, first_item="Edited wording"))]
    )
    assert changed.exit_code == 1 and "give the changed file a new version" in changed.output
    builtin = runner.invoke(args=["measures", "load", "--builtin"])
    assert builtin.exit_code == 0 and "ons4 version 1: new measure" in builtin.output
    neither = runner.invoke(args=["measures", "load"])
    assert neither.exit_code == 2 and "Give either a measure file or --builtin" in neither.output
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(MeasureVersion.id))) == 2


def test_a_malformed_file_names_the_line_and_key_and_writes_nothing(
    app: Flask, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        """\
        key = "Calm Scale"
        name = "Calm"
        version = "1"
        uses = ["participant", "everyone"]
        scoring = "average"
        colour = "blue"

        [responses]
        options = [{ value = 2, label = "Often" }, { value = 1, label = "Rarely" }]

        [[items]]
        key = "item1"
        text = "Made-up item 1"

        [[items]]
        key = "item1"
        text = ""
        """,
    )
    problems = problems_of(path)
    expected = [
        "measure.toml: key (line 1): use 2 to 40 lowercase letters",
        "measure.toml: colour: unknown key",
        "measure.toml: acknowledgement: missing",
        "measure.toml: uses (line 4): list one or both of participant, anonymous",
        "measure.toml: scoring (line 5): expected one of per_item, total",
        "measure.toml: responses.options (line 9): values must rise, each once",
        "measure.toml: items[1].key (line 16): 'item1' is used by an earlier item",
        "measure.toml: items[1].text (line 17): must not be blank",
    ]
    for start in expected:
        assert any(p.startswith(start) for p in problems), (start, problems)

    result = app.test_cli_runner().invoke(args=["measures", "load", str(path)])
    assert result.exit_code == 1 and "items[1].text (line 17)" in result.output
    assert db.session.scalar(sa.select(sa.func.count(Measure.id))) == 0


def test_syntax_errors_and_other_files_are_refused_clearly(tmp_path: Path) -> None:
    broken = write(tmp_path, 'key = "calm7"\nname = "unterminated\n', "broken.toml")
    (problem,) = problems_of(broken)
    assert problem.startswith("broken.toml: not valid TOML") and "line 2" in problem
    (missing,) = problems_of(tmp_path / "absent.toml")
    assert missing == "absent.toml: no such file"
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    assert problems_of(binary) == ["binary.toml: not UTF-8 text"]


def test_a_conversion_table_must_cover_every_total_of_a_summed_scale(tmp_path: Path) -> None:
    path = calm_file(tmp_path)
    text = (
        path.read_text(encoding="utf-8")
        .replace("\n12 = ", "\n# 12 = ")
        .replace("\n35 = ", "\n36 = ")
    )
    path.write_text(text, encoding="utf-8")
    problems = problems_of(path)
    assert any("conversion" in p and "no score for the raw totals 12, 35" in p for p in problems)
    assert any("raw totals outside 7–35: 36" in p for p in problems)

    per_item = calm_file(tmp_path, version="3", scoring='"per_item"')
    assert any('a conversion table needs scoring = "total"' in p for p in problems_of(per_item))


def test_a_numeric_scale_takes_its_end_labels_and_checks_them(tmp_path: Path) -> None:
    good = write(
        tmp_path,
        """\
        key = "mood"
        name = "Mood today"
        version = "1"
        acknowledgement = "Made up for a test"
        uses = ["anonymous"]
        scoring = "per_item"

        [responses]
        min = 1
        max = 7
        labels = { 1 = "Low", 7 = "High" }

        [[items]]
        key = "mood"
        text = "How is your mood today?"
        """,
    )
    mood = read_measure(good)
    assert [o.value for o in mood.items[0].options] == list(range(1, 8))
    assert mood.items[0].options[0].label == "Low" and mood.items[0].options[3].label == ""
    assert mood.items[0].label == "Item 1"

    bad = write(
        tmp_path,
        good.read_text(encoding="utf-8")
        .replace('labels = { 1 = "Low", 7 = "High" }', 'labels = { 9 = "Off" }')
        .replace("min = 1", "min = 1"),
        "bad.toml",
    )
    assert any(
        "responses.labels.9 (line 11): not an answer from 1 to 7" in p for p in problems_of(bad)
    )
    reversed_range = write(
        tmp_path, good.read_text(encoding="utf-8").replace("min = 1", "min = 9"), "range.toml"
    )
    assert any(
        p.startswith("range.toml: responses (line 9): min must be below max")
        for p in problems_of(reversed_range)
    )


def _signed_in(app: Flask, user) -> FlaskClient:
    client = app.test_client()
    sign_in_as(client, user)
    db.session.rollback()
    return client


def test_those_who_ask_the_questions_read_each_version_word_for_word(
    app: Flask, factory, tmp_path: Path
) -> None:
    load_measure_file(calm_file(tmp_path))
    load_measure_file(calm_file(tmp_path, version="2", first_item="I have felt relaxed"))
    load_builtin_measures()
    leader = factory.user("reader_leader")
    partner = factory.user("partner_viewer")
    db.session.commit()

    client = _signed_in(app, leader)
    listing = client.get("/measures/").get_data(as_text=True)
    assert "Calm scale (7 items)" in listing and "ONS personal wellbeing (ONS4)" in listing
    assert "Ships with readerapp" in listing
    page = client.get("/measures/calm7")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "I have felt relaxed" in html and "Version 2" in html
    assert html.count("Calm scale © Example University, used under licence") == 2
    assert "converted with the measure's published table (7–35)" in html
    earlier = client.get("/measures/calm7?version=1").get_data(as_text=True)
    assert "I have felt calm" in earlier and "an earlier version" in earlier
    ons4 = client.get("/measures/ons4").get_data(as_text=True)
    assert "Each item on its own, never summed" in ons4 and "a lower answer is better" in ons4
    assert "Office for National Statistics" in ons4
    assert client.get("/measures/calm7?version=9").status_code == 404
    assert client.get("/measures/unknown").status_code == 404

    # A licensed scale is not passed on: partners never see the questionnaires.
    outsider = _signed_in(app, partner)
    assert outsider.get("/measures/").status_code == 403
    assert outsider.get("/measures/calm7").status_code == 403
