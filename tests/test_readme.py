"""The README's mapping tables are the adapters' own tables."""

from __future__ import annotations

from pathlib import Path

from carriers.mapping_doc import END, START, mapping_markdown


def test_readme_mapping_tables_match_the_code() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    documented = readme[readme.index(START) : readme.index(END) + len(END)]
    assert documented == mapping_markdown(), "run `leveranse carriers mapping` and paste it into the README"
