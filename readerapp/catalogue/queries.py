"""Reads for the catalogue pages: each text with how many sessions and radio episodes read it."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ..db import contains_text
from ..extensions import db
from ..radio.models import episode_material
from ..sessions.models import ReadingMaterial, session_material

MATERIALS_PAGE_SIZE = 50


@dataclass
class MaterialRow:
    material: ReadingMaterial
    sessions: int
    episodes: int


@dataclass
class MaterialPage:
    rows: list[MaterialRow]
    total: int
    page: int
    pages: int


def _usage_counts() -> tuple[sa.ScalarSelect, sa.ScalarSelect]:
    """How many sessions and episodes read each text: correlated counts, so a page of 50 texts
    costs 100 index look-ups, however many sessions the catalogue has been read in."""
    sessions = (
        sa.select(sa.func.count())
        .where(session_material.c.material_id == ReadingMaterial.id)
        .correlate(ReadingMaterial)
        .scalar_subquery()
    )
    episodes = (
        sa.select(sa.func.count())
        .where(episode_material.c.material_id == ReadingMaterial.id)
        .correlate(ReadingMaterial)
        .scalar_subquery()
    )
    return sessions, episodes


def list_materials(*, q: str = "", kind: str = "", page: int = 1) -> MaterialPage:
    """One page of the catalogue, each text with how many sessions and episodes read it."""
    query = sa.select(ReadingMaterial)
    if q:
        query = query.where(contains_text(q, ReadingMaterial.title, ReadingMaterial.author))
    if kind:
        query = query.where(ReadingMaterial.kind == kind)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // MATERIALS_PAGE_SIZE))
    page = min(max(page, 1), pages)
    sessions, episodes = _usage_counts()
    rows = db.session.execute(
        query.add_columns(sessions, episodes)
        .order_by(
            sa.func.lower(ReadingMaterial.title),
            sa.func.lower(ReadingMaterial.author),
            ReadingMaterial.id,
        )
        .limit(MATERIALS_PAGE_SIZE)
        .offset((page - 1) * MATERIALS_PAGE_SIZE)
    ).all()
    return MaterialPage(
        rows=[MaterialRow(m, s or 0, e or 0) for m, s, e in rows],
        total=total,
        page=page,
        pages=pages,
    )


def material_usage(material_id: int) -> MaterialRow | None:
    """A text with how many sessions and episodes read it, or None when there is none."""
    sessions, episodes = _usage_counts()
    row = db.session.execute(
        sa.select(ReadingMaterial, sessions, episodes).where(ReadingMaterial.id == material_id)
    ).first()
    if row is None:
        return None
    material, n_sessions, n_episodes = row
    return MaterialRow(material, n_sessions or 0, n_episodes or 0)
