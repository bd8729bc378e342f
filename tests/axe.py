"""axe-core for the accessibility audit: the pinned release from the npm registry, checked against its
published sha512 integrity and cached outside the repository, then run in pages through the driver."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import tarfile
import urllib.request
from pathlib import Path
from typing import Any

AXE_VERSION = "4.14.1"
AXE_TARBALL = f"https://registry.npmjs.org/axe-core/-/axe-core-{AXE_VERSION}.tgz"
# `dist.integrity` of axe-core 4.14.1 in the registry's metadata (https://registry.npmjs.org/axe-core/4.14.1)
AXE_INTEGRITY = (
    "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
)
DOWNLOAD_TIMEOUT_SECONDS = 60
#: WCAG 2.0 and 2.1, levels A and AA
WCAG_AA_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
#: axe's best-practice rules for what WCAG 1.3.1 and 2.4.1 ask of structure (landmarks, heading order),
#: which the tags above leave out
STRUCTURE_RULES = ["landmark-one-main", "region", "heading-order", "page-has-heading-one", "landmark-unique"]


class AxeUnavailable(RuntimeError):
    """axe-core could not be downloaded or did not match the pinned integrity."""


def cache_dir() -> Path:
    """Where the checked tarball's script is kept: `$XDG_CACHE_HOME/leveranse` (default ~/.cache/leveranse)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "leveranse"


def _matches_integrity(data: bytes) -> bool:
    algorithm, digest = AXE_INTEGRITY.split("-", 1)
    return base64.b64encode(hashlib.new(algorithm, data).digest()).decode() == digest


def axe_source() -> str:
    """The text of axe.min.js, downloading and checking the pinned tarball on first use."""
    tarball = cache_dir() / f"axe-core-{AXE_VERSION}.tgz"
    data = tarball.read_bytes() if tarball.exists() else b""
    if not _matches_integrity(data):
        try:
            with urllib.request.urlopen(AXE_TARBALL, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response:
                data = response.read()
        except OSError as exc:
            raise AxeUnavailable(f"could not download {AXE_TARBALL}: {exc}") from exc
        if not _matches_integrity(data):
            raise AxeUnavailable(f"{AXE_TARBALL} does not match the pinned integrity {AXE_INTEGRITY}")
        tarball.parent.mkdir(parents=True, exist_ok=True)
        partial = tarball.with_suffix(".part")
        partial.write_bytes(data)
        partial.replace(tarball)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        member = archive.extractfile("package/axe.min.js")
        if member is None:
            raise AxeUnavailable(f"{AXE_TARBALL} has no package/axe.min.js")
        return member.read().decode()


def run_axe(page: Any, source: str) -> list[dict]:
    """Inject axe into the loaded page through the driver (the page's CSP allows no inline script, but a
    DevTools evaluation is not a page script) and return its WCAG 2.0/2.1 A and AA and structure violations."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(source)
    return page.evaluate(
        """async ([tags, structure]) => {
            const rules = Object.fromEntries(structure.map((id) => [id, {enabled: true}]));
            const options = {runOnly: {type: "tag", values: tags}, rules, resultTypes: ["violations"]};
            const result = await axe.run(document, options);
            return result.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map((n) => ({target: n.target.join(" "), summary: n.failureSummary})),
            }));
        }""",
        [WCAG_AA_TAGS, STRUCTURE_RULES],
    )
