"""Scoring answer sets and the paired change between them, by each measure's own rules.

The summed measure here is made up ("Steady scale", 7 items answered 1–5, with a made-up
conversion table): no licensed wording or table is used. Expected results are worked out in the
tests from the answers themselves, not from the module under test."""

from __future__ import annotations

import itertools
import math
import statistics
from datetime import date
from pathlib import Path

import pytest

from readerapp.outcomes.definitions import (
    Item,
    MeasureDefinition,
    Option,
    builtin_paths,
    read_measure,
)
from readerapp.outcomes.scoring import (
    Score,
    paired_change,
    score_answers,
    t_quantile_975,
)

# Made up, and bent on purpose: a raw rise of 3 is worth more converted at the foot of the
# scale than at the top, so comparing raw totals would give other answers.
STEADY_TABLE = {raw: round(7 + 28 * ((raw - 7) / 28) ** 0.85, 2) for raw in range(7, 36)}
ITEM_KEYS = [f"item{n}" for n in range(1, 8)]

FIRST = date(2026, 1, 10)
MIDDLE = date(2026, 3, 10)
LATEST = date(2026, 6, 10)

# Raw totals (first, latest) of the 40 people who answered twice, by what their converted change
# is: at least 3 points up, within 3 points, at least 3 points down.
IMPROVED = [
    (12, 17), (13, 18), (14, 19), (15, 20), (16, 21), (17, 22), (18, 23), (19, 24), (20, 25),
    (21, 26), (22, 27), (23, 28), (24, 29), (25, 30), (8, 11), (11, 19), (12, 20), (14, 22),
    (16, 25), (18, 27),
]  # fmt: skip
# (30, 33) and (33, 30) moved 3 raw points, but under 3 once converted: no meaningful change.
NO_CHANGE = [
    (30, 33), (16, 17), (17, 16), (33, 30), (19, 20), (20, 19), (21, 21), (22, 23), (23, 22),
    (24, 24), (25, 26), (26, 25),
]  # fmt: skip
DECLINED = [(20, 15), (21, 16), (22, 17), (23, 18), (24, 19), (25, 20), (26, 21), (27, 22)]
PAIRS = IMPROVED + NO_CHANGE + DECLINED


def steady_file(tmp_path: Path, **extra: str) -> Path:
    items = "\n".join(
        f'[[items]]\nkey = "{key}"\ntext = "Made-up statement {n}"\n'
        for n, key in enumerate(ITEM_KEYS, start=1)
    )
    conversion = "\n".join(f"{raw} = {score}" for raw, score in STEADY_TABLE.items())
    head = {
        "key": '"steady7"',
        "name": '"Steady scale (7 items)"',
        "version": '"1"',
        "acknowledgement": '"Steady scale © Example College, used under licence"',
        "uses": '["participant"]',
        "scoring": '"total"',
        "meaningful_change": "3",
    } | extra
    lines = "\n".join(f"{key} = {value}" for key, value in head.items())
    path = tmp_path / "steady.toml"
    path.write_text(
        f"""{lines}

[responses]
options = [
  {{ value = 1, label = "Never" }},
  {{ value = 2, label = "Seldom" }},
  {{ value = 3, label = "Sometimes" }},
  {{ value = 4, label = "Mostly" }},
  {{ value = 5, label = "Always" }},
]

{items}
[conversion]
{conversion}
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def steady(tmp_path: Path) -> MeasureDefinition:
    return read_measure(steady_file(tmp_path))


@pytest.fixture
def ons4() -> MeasureDefinition:
    (path,) = [p for p in builtin_paths() if p.stem == "ons4"]
    return read_measure(path)


def answers_for(total: int, turn: int = 0) -> dict[str, int]:
    """Seven answers from 1 to 5 adding up to ``total``, spread from a different item each time."""
    extra = total - 7
    answers = dict.fromkeys(ITEM_KEYS, 1)
    for step in range(7):
        key = ITEM_KEYS[(turn + step) % 7]
        added = min(4, extra)
        answers[key] += added
        extra -= added
    assert sum(answers.values()) == total and extra == 0
    return answers


def made_up(
    *,
    scoring: str = "total",
    conversion: dict[int, float] | None = None,
    meaningful_change: float | None = 3,
    minimum_pairs: int = 30,
    higher_is_better: bool = True,
    items: int = 2,
) -> MeasureDefinition:
    options = tuple(Option(v, "") for v in range(1, 6))
    return MeasureDefinition(
        key="made-up",
        name="Made-up measure",
        version="1",
        acknowledgement="Made up for a test",
        uses=("participant",),
        scoring=scoring,
        higher_is_better=higher_is_better,
        meaningful_change=meaningful_change,
        minimum_pairs=minimum_pairs,
        items=tuple(
            Item(f"q{n}", f"Question {n}", f"Made-up question {n}", higher_is_better, options)
            for n in range(1, items + 1)
        ),
        conversion=conversion,
    )


# Student's t


@pytest.mark.parametrize(
    ("df", "expected"),
    [
        (1, 12.706),
        (5, 2.571),
        (10, 2.228),
        (29, 2.045),
        (30, 2.042),
        (39, 2.023),
        (60, 2.000),
        (120, 1.980),
    ],
)
def test_the_t_quantile_matches_the_published_table(df: int, expected: float) -> None:
    assert round(t_quantile_975(df), 3) == expected


def test_the_t_quantile_falls_smoothly_past_the_table_towards_the_normal() -> None:
    values = [t_quantile_975(df) for df in range(1, 2001)]
    assert all(a > b for a, b in itertools.pairwise(values))
    # Where the table ends and the approximation begins, the steps keep shrinking.
    steps = [values[i] - values[i + 1] for i in range(27, 33)]
    assert all(a > b for a, b in itertools.pairwise(steps))
    assert round(t_quantile_975(31), 4) == 2.0395 and round(t_quantile_975(40), 4) == 2.0211
    assert 1.95996 < t_quantile_975(100_000) < 1.96000
    with pytest.raises(ValueError, match="at least 1 degree of freedom"):
        t_quantile_975(0)


# Scoring one answer set


def test_a_complete_set_is_totalled_and_converted_with_the_table(
    steady: MeasureDefinition,
) -> None:
    answers = {"item7": 2, "item1": 5, "item2": 4, "item3": 3, "item4": 1, "item5": 2, "item6": 3}
    score = score_answers(steady, answers)
    assert score.complete and score.total == 20
    assert score.metric == STEADY_TABLE[20] == 21.59
    assert list(score.items) == ITEM_KEYS  # in the measure's order
    assert score.items["item1"] == 5


def test_a_partial_set_is_stored_as_answered_but_never_totalled(
    steady: MeasureDefinition,
) -> None:
    answers = answers_for(20)
    del answers["item4"]
    score = score_answers(steady, answers)
    assert score == Score(items=answers, complete=False, total=None, metric=None)
    empty = score_answers(steady, {})
    assert not empty.complete and empty.items == {} and empty.metric is None


def test_without_a_table_the_metric_is_the_raw_total() -> None:
    measure = made_up()
    score = score_answers(measure, {"q1": 4, "q2": 5})
    assert score.total == 9 and score.metric == 9.0 and isinstance(score.metric, float)


def test_a_per_item_measure_is_never_summed(ons4: MeasureDefinition) -> None:
    answers = {"life_satisfaction": 7, "worthwhile": 8, "happiness": 6, "anxiety": 2}
    score = score_answers(ons4, answers)
    assert score.complete and score.items == answers
    assert score.total is None and score.metric is None


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"item8": 3}, "steady7 version 1 has no item 'item8'"),
        ({"Item1": 3}, "has no item 'Item1'"),
        ({"item1": 6}, r"6 is not an answer to 'item1' \(offered: 1, 2, 3, 4, 5\)"),
        ({"item1": 0}, "0 is not an answer to 'item1'"),
        ({"item1": -1}, "-1 is not an answer"),
        ({"item1": True}, "True is not an answer"),
        ({"item1": 3.0}, "3.0 is not an answer"),
        ({"item1": "3"}, "'3' is not an answer"),
        ({"item1": None}, "None is not an answer"),
    ],
)
def test_unknown_items_and_answers_not_offered_are_refused(
    steady: MeasureDefinition, answers: dict, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        score_answers(steady, answers_for(20) | answers)


def test_an_answer_out_of_an_items_own_range_is_refused(ons4: MeasureDefinition) -> None:
    assert score_answers(ons4, {"anxiety": 0}).items == {"anxiety": 0}
    with pytest.raises(ValueError, match="11 is not an answer to 'anxiety'"):
        score_answers(ons4, {"anxiety": 11})


def test_a_table_that_misses_a_total_is_an_error_not_a_guess() -> None:
    measure = made_up(conversion={raw: float(raw) for raw in range(2, 10)})
    with pytest.raises(ValueError, match="no score for the raw total 10"):
        score_answers(measure, {"q1": 5, "q2": 5})


# Paired change of a summed, converted measure


def steady_people(measure: MeasureDefinition) -> dict[str, list[tuple[date, Score]]]:
    people: dict[str, list[tuple[date, Score]]] = {}
    for number, (first, latest) in enumerate(PAIRS, start=1):
        sets = [
            (FIRST, score_answers(measure, answers_for(first, number))),
            (LATEST, score_answers(measure, answers_for(latest, number + 3))),
        ]
        if number <= 10:
            # Ten people also answered between times: their latest is still the last set.
            sets.insert(1, (MIDDLE, score_answers(measure, answers_for(first + 2, number))))
        people[f"P-{number:03}"] = sets
    partial = answers_for(30)
    del partial["item7"]
    # Not paired: one set only; a partial follow-up (not totalled); two sets on one day.
    people["P-041"] = [(FIRST, score_answers(measure, answers_for(15)))]
    people["P-042"] = [
        (FIRST, score_answers(measure, answers_for(15))),
        (LATEST, score_answers(measure, partial)),
    ]
    people["P-043"] = [
        (FIRST, score_answers(measure, answers_for(15))),
        (FIRST, score_answers(measure, answers_for(30))),
    ]
    return people


def test_forty_people_pair_on_converted_scores_with_shares_and_interval(
    steady: MeasureDefinition,
) -> None:
    change = paired_change(steady, steady_people(steady))
    assert (change.key, change.version, change.scoring) == ("steady7", "1", "total")
    assert change.acknowledgement == "Steady scale © Example College, used under licence"
    (summary,) = change.summaries
    assert summary.label == "Converted score" and summary.item_key is None

    # By hand: each person's converted first and latest, and the change between them.
    before = [STEADY_TABLE[first] for first, _ in PAIRS]
    after = [STEADY_TABLE[latest] for _, latest in PAIRS]
    changes = [b - a for a, b in zip(before, after, strict=True)]
    assert summary.pairs == 40
    assert summary.mean_before == pytest.approx(statistics.mean(before))
    assert summary.mean_after == pytest.approx(statistics.mean(after))
    assert summary.mean_change == pytest.approx(statistics.mean(changes))
    assert round(summary.mean_change, 4) == 1.842
    margin = 2.023 * statistics.stdev(changes) / math.sqrt(40)  # t(0.975, 39 df)
    # 2.023 is t to 3 decimals: the interval may differ by that rounding times the error.
    rounding = 0.0005 * statistics.stdev(changes) / math.sqrt(40)
    assert summary.ci_low == pytest.approx(statistics.mean(changes) - margin, abs=rounding)
    assert summary.ci_high == pytest.approx(statistics.mean(changes) + margin, abs=rounding)
    assert (round(summary.ci_low, 2), round(summary.ci_high, 2)) == (0.45, 3.23)

    assert (summary.improved, summary.no_change, summary.declined) == (20, 12, 8)
    assert (summary.improved_share, summary.no_change_share, summary.declined_share) == (
        0.5,
        0.3,
        0.2,
    )
    assert not summary.caution and summary.caution_text is None
    assert {p.person for p in summary.people} == {f"P-{n:03}" for n in range(1, 41)}
    first = next(p for p in summary.people if p.person == "P-001")
    assert (first.first_date, first.latest_date) == (FIRST, LATEST)
    assert (first.before, first.after) == (STEADY_TABLE[12], STEADY_TABLE[17])


def test_raw_totals_would_have_told_another_story(steady: MeasureDefinition) -> None:
    """The shares and the mean come from converted scores: on raw totals they would differ."""
    (summary,) = paired_change(steady, steady_people(steady)).summaries
    raw_changes = [latest - first for first, latest in PAIRS]
    assert statistics.mean(raw_changes) == 1.875 != pytest.approx(summary.mean_change)
    raw_improved = sum(change >= 3 for change in raw_changes)
    raw_declined = sum(change <= -3 for change in raw_changes)
    assert (raw_improved, raw_declined) == (21, 9)
    assert (summary.improved, summary.declined) == (20, 8)


def test_each_follow_up_is_compared_with_the_first_set(steady: MeasureDefinition) -> None:
    (summary,) = paired_change(steady, steady_people(steady)).summaries
    second, third = summary.also_follow_ups
    # Everyone's second set: the middle one for the first ten, the latest for the others.
    seconds = [
        STEADY_TABLE[first + 2 if n <= 10 else latest] - STEADY_TABLE[first]
        for n, (first, latest) in enumerate(PAIRS, start=1)
    ]
    assert (second.number, second.pairs) == (2, 40)
    assert second.mean_change == pytest.approx(statistics.mean(seconds))
    assert second.ci_low is not None and second.ci_low < second.mean_change < second.ci_high
    thirds = [STEADY_TABLE[latest] - STEADY_TABLE[first] for first, latest in PAIRS[:10]]
    assert (third.number, third.pairs) == (3, 10)
    assert third.mean_change == pytest.approx(statistics.mean(thirds))
    assert third.mean_before == pytest.approx(
        statistics.mean(STEADY_TABLE[f] for f, _ in PAIRS[:10])
    )
    margin = 2.262 * statistics.stdev(thirds) / math.sqrt(10)  # t(0.975, 9 df)
    assert third.ci_high == pytest.approx(statistics.mean(thirds) + margin, abs=1e-3)


def test_unusable_sets_are_skipped_and_the_rest_paired() -> None:
    measure = made_up(meaningful_change=1)
    day = [date(2026, 1, d) for d in range(1, 8)]
    people = {
        # A partial first set does not count: the baseline is the first complete one.
        "partial-first": [
            (day[0], score_answers(measure, {"q1": 1})),
            (day[1], score_answers(measure, {"q1": 2, "q2": 2})),
            (day[2], score_answers(measure, {"q1": 3, "q2": 3})),
        ],
        # Given out of date order: taken in date order all the same.
        "unordered": [
            (day[4], score_answers(measure, {"q1": 5, "q2": 5})),
            (day[0], score_answers(measure, {"q1": 1, "q2": 1})),
        ],
        # Two sets on the last day: the last given stands (a correction, not a follow-up).
        "corrected": [
            (day[0], score_answers(measure, {"q1": 3, "q2": 3})),
            (day[3], score_answers(measure, {"q1": 5, "q2": 5})),
            (day[3], score_answers(measure, {"q1": 4, "q2": 4})),
        ],
        "only-one": [(day[0], score_answers(measure, {"q1": 3, "q2": 3}))],
        "none": [],
    }
    (summary,) = paired_change(measure, people).summaries
    assert summary.label == "Total score"
    found = {p.person: (p.first_date, p.latest_date, p.before, p.after) for p in summary.people}
    assert found == {
        "partial-first": (day[1], day[2], 4.0, 6.0),
        "unordered": (day[0], day[4], 2.0, 10.0),
        "corrected": (day[0], day[3], 6.0, 8.0),
    }
    assert [(f.number, f.pairs) for f in summary.also_follow_ups] == [(2, 3)]
    assert summary.mean_change == pytest.approx(4.0)


def test_a_lower_is_better_total_reads_a_fall_as_improvement() -> None:
    measure = made_up(higher_is_better=False, meaningful_change=2, minimum_pairs=2)
    day1, day2 = date(2026, 2, 1), date(2026, 5, 1)
    totals = {"down": (8, 4), "further down": (9, 5), "up": (4, 8), "little": (5, 6)}
    people = {
        person: [
            (day1, score_answers(measure, {"q1": first // 2, "q2": first - first // 2})),
            (day2, score_answers(measure, {"q1": latest // 2, "q2": latest - latest // 2})),
        ]
        for person, (first, latest) in totals.items()
    }
    (summary,) = paired_change(measure, people).summaries
    assert summary.higher_is_better is False
    # A fall of 4 twice, a rise of 4 and a rise of 1: the falls are the improvements.
    assert (summary.improved, summary.no_change, summary.declined) == (2, 1, 1)
    assert summary.mean_change == pytest.approx(-0.75)


def test_the_threshold_is_met_exactly_despite_decimals() -> None:
    """10.2 - 7.2 falls short of 3.0 in binary floating point, yet the person rose 3 points."""
    table = {2: 2.0, 3: 5.03, 4: 7.2, 5: 8.03, 6: 9.0, 7: 10.2, 8: 11.0, 9: 12.0, 10: 13.0}
    assert 10.2 - 7.2 < 3 and 8.03 - 5.03 < 3
    measure = made_up(conversion=table, meaningful_change=3)
    day1, day2 = date(2026, 2, 1), date(2026, 5, 1)
    people = {
        "up": [
            (day1, score_answers(measure, {"q1": 2, "q2": 2})),
            (day2, score_answers(measure, {"q1": 3, "q2": 4})),
        ],
        "down": [
            (day1, score_answers(measure, {"q1": 1, "q2": 4})),
            (day2, score_answers(measure, {"q1": 1, "q2": 2})),
        ],
    }
    (summary,) = paired_change(measure, people).summaries
    assert (summary.improved, summary.no_change, summary.declined) == (1, 0, 1)


def test_without_a_threshold_any_change_counts() -> None:
    measure = made_up(meaningful_change=None)
    day1, day2 = date(2026, 2, 1), date(2026, 5, 1)
    totals = {"a": (4, 5), "b": (4, 4), "c": (6, 5), "d": (2, 10)}
    people = {
        person: [
            (day1, score_answers(measure, {"q1": first // 2, "q2": first - first // 2})),
            (day2, score_answers(measure, {"q1": latest // 2, "q2": latest - latest // 2})),
        ]
        for person, (first, latest) in totals.items()
    }
    (summary,) = paired_change(measure, people).summaries
    assert summary.meaningful_change is None
    assert (summary.improved, summary.no_change, summary.declined) == (2, 1, 1)
    assert summary.improved_share == 0.5


def two_sets(measure: MeasureDefinition, first: int, latest: int) -> list[tuple[date, Score]]:
    return [
        (date(2026, 2, 1), score_answers(measure, {"q1": first, "q2": first})),
        (date(2026, 5, 1), score_answers(measure, {"q1": latest, "q2": latest})),
    ]


def test_fewer_pairs_than_the_measure_asks_for_call_for_caution() -> None:
    measure = made_up()
    people = {f"P-{n}": two_sets(measure, 2, 3 + n % 3) for n in range(29)}
    (summary,) = paired_change(measure, people).summaries
    assert summary.pairs == 29 and summary.caution
    assert summary.caution_text == (
        "Fewer than 30 people with two measurements: treat with caution."
    )
    people["P-29"] = two_sets(measure, 2, 3)
    (enough,) = paired_change(measure, people).summaries
    assert enough.pairs == 30 and not enough.caution and enough.caution_text is None

    ten = made_up(minimum_pairs=10)
    (few,) = paired_change(ten, {"a": two_sets(ten, 1, 2)}).summaries
    assert few.caution_text == "Fewer than 10 people with two measurements: treat with caution."


def test_one_pair_has_no_interval_and_none_has_no_means() -> None:
    measure = made_up()
    (one,) = paired_change(measure, {"a": two_sets(measure, 1, 4)}).summaries
    assert (one.pairs, one.mean_change, one.ci_low, one.ci_high) == (1, 6.0, None, None)
    assert (one.improved, one.improved_share) == (1, 1.0)
    (only_once,) = paired_change(measure, {"a": two_sets(measure, 1, 4)[:1]}).summaries
    (nobody,) = paired_change(measure, {}).summaries
    for empty in (only_once, nobody):
        assert empty.pairs == 0 and empty.caution
        assert (empty.mean_before, empty.mean_after, empty.mean_change) == (None, None, None)
        assert (empty.ci_low, empty.ci_high) == (None, None)
        assert (empty.improved_share, empty.no_change_share, empty.declined_share) == (
            None,
            None,
            None,
        )
        assert empty.people == () and empty.also_follow_ups == ()


# Paired change of ONS4, item by item


def test_ons4_pairs_item_by_item_and_a_fall_in_anxiety_is_improvement(
    ons4: MeasureDefinition,
) -> None:
    spring, summer = date(2026, 3, 2), date(2026, 7, 6)
    people = {
        "AWR-001": [
            (spring, {"life_satisfaction": 5, "worthwhile": 6, "happiness": 4, "anxiety": 8}),
            (summer, {"life_satisfaction": 7, "worthwhile": 6, "happiness": 4, "anxiety": 5}),
        ],
        # Half answered at first: pairs on the two items answered both times.
        "AWR-002": [
            (spring, {"life_satisfaction": 6, "anxiety": 3}),
            (summer, {"life_satisfaction": 5, "worthwhile": 7, "happiness": 6, "anxiety": 3}),
        ],
        "AWR-003": [
            (spring, {"life_satisfaction": 2, "worthwhile": 2, "happiness": 2, "anxiety": 2})
        ],
    }
    scored = {
        person: [(day, score_answers(ons4, answers)) for day, answers in sets]
        for person, sets in people.items()
    }
    change = paired_change(ons4, scored)
    assert change.scoring == "per_item"
    assert "Office for National Statistics" in change.acknowledgement
    by_item = {s.item_key: s for s in change.summaries}
    assert [s.label for s in change.summaries] == [
        "Life satisfaction",
        "Worthwhile",
        "Happiness yesterday",
        "Anxiety yesterday",
    ]
    assert not any("total" in s.label.lower() for s in change.summaries)

    life = by_item["life_satisfaction"]
    assert (life.pairs, life.mean_before, life.mean_after) == (2, 5.5, 6.0)
    assert (life.improved, life.no_change, life.declined) == (1, 0, 1)  # +2 and -1
    assert life.higher_is_better

    worthwhile = by_item["worthwhile"]
    assert (worthwhile.pairs, worthwhile.no_change, worthwhile.mean_change) == (1, 1, 0.0)
    assert [p.person for p in worthwhile.people] == ["AWR-001"]

    anxiety = by_item["anxiety"]
    assert anxiety.higher_is_better is False
    assert anxiety.pairs == 2 and anxiety.mean_change == pytest.approx(-1.5)  # -3 and 0
    assert (anxiety.improved, anxiety.no_change, anxiety.declined) == (1, 1, 0)
    assert {p.person: p.change for p in anxiety.people} == {"AWR-001": -3.0, "AWR-002": 0.0}
    # The interval of two changes, -3 and 0: mean -1.5, t(0.975, 1 df) = 12.706.
    margin = 12.706 * statistics.stdev([-3, 0]) / math.sqrt(2)
    assert anxiety.ci_low == pytest.approx(-1.5 - margin, abs=1e-3)
    assert anxiety.ci_high == pytest.approx(-1.5 + margin, abs=1e-3)
    assert all(s.caution for s in change.summaries)
