"""No item wording of WEMWBS or SWEMWBS anywhere in the repository: each charity loads the
scales from its own licensed copy, which may not be published or passed on.

The check cannot hold the wording either, so it holds only a SHA-256 digest of each item,
normalised (lower case, letters only, apostrophes dropped, words joined by one space): every
item opens "I've …" or "I have …", so each text file's word runs starting there are hashed and
compared. SWEMWBS's seven items are among WEMWBS's fourteen."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
SKIPPED_FOLDERS = {".git", ".venv", "instance", "node_modules", "__pycache__", ".pytest_cache"}
OPENING = "ive"  # "I've" with its apostrophe dropped ("I have" is read as "I've")

# (words in the item, sha256 of its normalised words), for the fourteen WEMWBS items.
LICENSED_ITEMS = {
    (7, "6bb73c165a471ad1d274b33f8532c6831d836fafeb0667cf176748080d7bbe25"),
    (4, "b5df9f204f43dd5c1eb6118ed83bcfc3a166fd77aa9f6de11826f3bb503c0818"),
    (4, "ffc7c370ab8b420b242d66193d0a30a848417d63471553f2a63032fedb5a4340"),
    (7, "b89e1103f3d0d825f35bcb114a30153379d9190bc57903dc1de57a12289c271d"),
    (5, "05c91df2c4e658f3cef77a2ef7c1fb2caccdc71d527358592e7d377bcc6304fc"),
    (6, "da58dbcb74033e35516ac739aa3f2c1727d18bd2d1851ee97ea40f46bb5bc280"),
    (4, "51654af5f7b578ae959f2ede7dbbc66ea2500dbaa3122654d16d73cacadaad3a"),
    (6, "390a68303691cf781e26e2af473e2b9ea07a2eff5e3d06a19bee34c34df95c19"),
    (7, "10dcd2a0663610a466923b74193f0da6797e42aef7ce815a66fa09047633c436"),
    (4, "50bd579882c2250cfa703057cde85c15cc65eb05906ff46407d3c882b8095512"),
    (11, "488384d472cb25399282c2ef6f154da7b810e81becedf062c5b9cc9644b3cb1e"),
    (4, "87a7747dff2af65cf14d10e5e977d741f13d4277ad246e897b4d9e0b612a4692"),
    (6, "b6d62a1bf186886be6c80920f9f41f713503996b5306232c4442ca7a6a201e0f"),
    (4, "15257a670a6230b068de86587e3e9695cb47261f0304224446cf70ce9a3c2dcb"),
}


def words(text: str) -> list[str]:
    text = text.lower().replace("\u2019", "").replace("'", "")
    # "I have" is read as "I've", so that either spelling is found.
    return re.findall(r"[a-z]+", re.sub(r"\bi have\b", "ive", text))


def digest(run: list[str]) -> str:
    return hashlib.sha256(" ".join(run).encode()).hexdigest()


def text_files(root: Path) -> Iterator[Path]:
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [name for name in subfolders if name not in SKIPPED_FOLDERS]
        for name in names:
            yield Path(folder) / name


def files_holding(root: Path, items: set[tuple[int, str]]) -> list[str]:
    """The files under ``root`` holding any of the items, as their paths from ``root``."""
    lengths = {n for n, _ in items}
    found = []
    for path in text_files(root):
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # not text
        all_words = words(text)
        starts = [i for i, w in enumerate(all_words) if w == OPENING]
        if any(
            (n, digest(all_words[i : i + n])) in items
            for i in starts
            for n in lengths
            if i + n <= len(all_words)
        ):
            found.append(str(path.relative_to(root)))
    return found


def test_the_check_finds_an_item_however_it_is_written(tmp_path: Path) -> None:
    item = words("I've been reading poems aloud")
    made_up = (len(item), digest(item))
    (tmp_path / "measure.toml").write_text('label = "I HAVE been reading poems, aloud!"\n')
    (tmp_path / "notes.md").write_text("Reading poems aloud, I’ve been happier.\n")
    assert files_holding(tmp_path, {made_up}) == ["measure.toml"]


def test_no_wemwbs_or_swemwbs_item_is_in_the_repository() -> None:
    assert files_holding(REPOSITORY, LICENSED_ITEMS) == []
