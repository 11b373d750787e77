"""Scoring answer sets and the change between them: plain data in, plain data out.

An answer set is ``{item_key: value}`` under one version of a measure. ``score_answers`` checks
it against the definition and scores it by the measure's own rules: a summed measure is totalled
only when every item is answered, and its total converted with the measure's table where it has
one; a per-item measure (ONS4) is never summed.

``paired_change`` pairs each person's first scored answer set with their latest one on a later
date, and each follow-up in between, and summarises the change: means before and after, the mean
change with its 95% confidence interval (Student's t), and the shares of people whose change is
a meaningful improvement, no change or a decline, read in the measure's better direction.
Totals are compared on the converted (metric) score, per-item measures on each item's answers.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from .definitions import Item, MeasureDefinition

# Two-sided 95%: the 0.975 quantile of Student's t for 1 to 30 degrees of freedom, to 6 places.
T_975 = (
    12.706205,
    4.302653,
    3.182446,
    2.776445,
    2.570582,
    2.446912,
    2.364624,
    2.306004,
    2.262157,
    2.228139,
    2.200985,
    2.178813,
    2.160369,
    2.144787,
    2.131450,
    2.119905,
    2.109816,
    2.100922,
    2.093024,
    2.085963,
    2.079614,
    2.073873,
    2.068658,
    2.063899,
    2.059539,
    2.055529,
    2.051831,
    2.048407,
    2.045230,
    2.042272,
)
_Z_975 = statistics.NormalDist().inv_cdf(0.975)

# Converted scores come from tables with decimals: 13.47 - 10.47 is not exactly 3.0 in binary
# floating point, yet a person whose score rose by the threshold has met it.
_TOLERANCE = 1e-9


def t_quantile_975(df: int) -> float:
    """The 0.975 quantile of Student's t with ``df`` degrees of freedom (a 95% interval's t).

    Exact (to 6 places) from the table up to 30; beyond, the Cornish-Fisher expansion about the
    normal quantile, whose error there is below 1e-7.
    """
    if df < 1:
        raise ValueError("Student's t needs at least 1 degree of freedom")
    if df <= len(T_975):
        return T_975[df - 1]
    z = _Z_975
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return z + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4


def mean_with_interval(values: Sequence[float]) -> tuple[float, float | None, float | None]:
    """The mean and its 95% confidence interval (None for fewer than two values)."""
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, None, None
    margin = t_quantile_975(len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values))
    return mean, mean - margin, mean + margin


@dataclass(frozen=True)
class Score:
    items: dict[str, int]  # the items answered, by key
    complete: bool  # every item of the measure answered
    total: int | None  # raw sum: a complete set of a summed measure only
    metric: float | None  # the converted total (or the raw total) compared between sets


def score_answers(definition: MeasureDefinition, answers: Mapping[str, int]) -> Score:
    """Score one answer set; raises ValueError for an unknown item or an answer not offered."""
    items = {item.key: item for item in definition.items}
    scored: dict[str, int] = {}
    for key, value in answers.items():
        item = items.get(key)
        if item is None:
            raise ValueError(f"{definition.key} version {definition.version} has no item {key!r}")
        # bool is an int to Python, and 1.0 == 1: neither is an answer anyone gave.
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or value not in {o.value for o in item.options}
        ):
            offered = ", ".join(str(o.value) for o in item.options)
            raise ValueError(f"{value!r} is not an answer to {key!r} (offered: {offered})")
        scored[key] = value
    # Kept in the measure's order, whatever order the answers came in.
    scored = {key: scored[key] for key in items if key in scored}
    complete = len(scored) == len(items)
    if definition.scoring != "total" or not complete:
        return Score(items=scored, complete=complete, total=None, metric=None)
    total = sum(scored.values())
    if definition.conversion is None:
        return Score(items=scored, complete=True, total=total, metric=float(total))
    if total not in definition.conversion:
        raise ValueError(
            f"the conversion table of {definition.key} version {definition.version} "
            f"has no score for the raw total {total}"
        )
    return Score(items=scored, complete=True, total=total, metric=definition.conversion[total])


@dataclass(frozen=True)
class PersonChange:
    """One person's paired values: their first and their latest on a later date."""

    person: str
    first_date: date
    latest_date: date
    before: float
    after: float
    change: float  # after - before, as measured


@dataclass(frozen=True)
class FollowUpChange:
    """Change from the first answer set to the ``number``-th (2 is the first follow-up)."""

    number: int
    pairs: int
    mean_before: float
    mean_after: float
    mean_change: float
    ci_low: float | None
    ci_high: float | None


@dataclass(frozen=True)
class ChangeSummary:
    label: str
    item_key: str | None  # None for a measure's total
    higher_is_better: bool
    meaningful_change: float | None  # a person's change read as meaningful; None: any change
    pairs: int  # people with a first and a later value
    mean_before: float | None  # None without pairs
    mean_after: float | None
    mean_change: float | None  # after - before, as measured (a fall is better when lower is)
    ci_low: float | None  # 95% interval of the mean change: None with fewer than 2 pairs
    ci_high: float | None
    improved: int  # people whose change in the better direction met the threshold
    no_change: int
    declined: int  # people whose change in the worse direction met it
    improved_share: float | None  # fractions of ``pairs``: None without pairs
    no_change_share: float | None
    declined_share: float | None
    minimum_pairs: int  # the measure's: fewer pairs than this call for caution
    caution: bool
    caution_text: str | None
    people: tuple[PersonChange, ...]
    also_follow_ups: tuple[FollowUpChange, ...]  # first set to the 2nd, 3rd, … by number


def caution_note(minimum_pairs: int) -> str:
    """The note beside results from fewer people than the measure asks for."""
    return f"Fewer than {minimum_pairs} people with two measurements: treat with caution."


@dataclass(frozen=True)
class MeasureChange:
    key: str
    name: str
    version: str
    acknowledgement: str  # shown wherever the measure's results are
    scoring: str
    summaries: tuple[ChangeSummary, ...]  # one for a total; one per item, in the measure's order


def paired_change(
    definition: MeasureDefinition, people: Mapping[str, Sequence[tuple[date, Score]]]
) -> MeasureChange:
    """Pair each person's first scored answer set with their latest on a later date.

    ``people`` maps a participant's code (or id) to their answer sets; they are taken in date
    order (sets of one date in the order given). The first usable set is the baseline; each
    later date is a follow-up, numbered from 2, with the last set given that date (a set
    entered twice in a day is a correction, not a follow-up). A set is usable for a total when
    it has a score (it is complete), and for an item when it answers that item, so under a
    per-item measure a person may pair on some items and not others.
    """
    ordered = {person: sorted(sets, key=lambda pair: pair[0]) for person, sets in people.items()}
    if definition.scoring == "total":
        label = "Converted score" if definition.conversion is not None else "Total score"
        totals = {
            person: [(day, score.metric) for day, score in sets if score.metric is not None]
            for person, sets in ordered.items()
        }
        summaries = (_summary(definition, label, None, definition.higher_is_better, totals),)
    else:
        summaries = tuple(_item_summary(definition, item, ordered) for item in definition.items)
    return MeasureChange(
        key=definition.key,
        name=definition.name,
        version=definition.version,
        acknowledgement=definition.acknowledgement,
        scoring=definition.scoring,
        summaries=summaries,
    )


def _item_summary(
    definition: MeasureDefinition,
    item: Item,
    ordered: Mapping[str, Sequence[tuple[date, Score]]],
) -> ChangeSummary:
    values = {
        person: [
            (day, float(score.items[item.key])) for day, score in sets if item.key in score.items
        ]
        for person, sets in ordered.items()
    }
    return _summary(definition, item.label, item.key, item.higher_is_better, values)


def _timeline(values: Sequence[tuple[date, float]]) -> list[tuple[date, float]]:
    """The baseline (the first value) and then one value per later date, the last given."""
    if not values:
        return []
    first_day, first = values[0]
    later: dict[date, float] = {}
    for day, value in values[1:]:
        if day > first_day:
            later[day] = value
    return [(first_day, first), *sorted(later.items())]


def _summary(
    definition: MeasureDefinition,
    label: str,
    item_key: str | None,
    higher_is_better: bool,
    values: Mapping[str, Sequence[tuple[date, float]]],
) -> ChangeSummary:
    threshold = definition.meaningful_change
    paired: list[PersonChange] = []
    follow_ups: dict[int, list[tuple[float, float]]] = {}
    for person, person_values in values.items():
        timeline = _timeline(person_values)
        if len(timeline) < 2:
            continue
        (first_day, before), (latest_day, after) = timeline[0], timeline[-1]
        paired.append(PersonChange(person, first_day, latest_day, before, after, after - before))
        for number, (_day, value) in enumerate(timeline[1:], start=2):
            follow_ups.setdefault(number, []).append((before, value))

    improved = declined = 0
    for pair in paired:
        better = pair.change if higher_is_better else -pair.change
        if _meets(better, threshold):
            improved += 1
        elif _meets(-better, threshold):
            declined += 1
    mean_before = mean_after = mean_change = ci_low = ci_high = None
    if paired:
        mean_before = statistics.fmean(p.before for p in paired)
        mean_after = statistics.fmean(p.after for p in paired)
        mean_change, ci_low, ci_high = mean_with_interval([p.change for p in paired])
    pairs = len(paired)
    no_change = pairs - improved - declined
    caution = pairs < definition.minimum_pairs
    return ChangeSummary(
        label=label,
        item_key=item_key,
        higher_is_better=higher_is_better,
        meaningful_change=threshold,
        pairs=pairs,
        mean_before=mean_before,
        mean_after=mean_after,
        mean_change=mean_change,
        ci_low=ci_low,
        ci_high=ci_high,
        improved=improved,
        no_change=no_change,
        declined=declined,
        improved_share=improved / pairs if pairs else None,
        no_change_share=no_change / pairs if pairs else None,
        declined_share=declined / pairs if pairs else None,
        minimum_pairs=definition.minimum_pairs,
        caution=caution,
        caution_text=caution_note(definition.minimum_pairs) if caution else None,
        people=tuple(paired),
        also_follow_ups=tuple(
            _follow_up(number, follow_ups[number]) for number in sorted(follow_ups)
        ),
    )


def _meets(better: float, threshold: float | None) -> bool:
    """Whether a change in the better direction counts: at least the threshold, or any rise."""
    if threshold is None:
        return better > _TOLERANCE
    return better >= threshold - _TOLERANCE


def _follow_up(number: int, pairs: Sequence[tuple[float, float]]) -> FollowUpChange:
    mean_change, ci_low, ci_high = mean_with_interval([after - before for before, after in pairs])
    return FollowUpChange(
        number=number,
        pairs=len(pairs),
        mean_before=statistics.fmean(before for before, _ in pairs),
        mean_after=statistics.fmean(after for _, after in pairs),
        mean_change=mean_change,
        ci_low=ci_low,
        ci_high=ci_high,
    )
