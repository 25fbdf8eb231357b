"""Where a kit's licence and author are found: the kit's own files first (a licence field the
format has, then a LICENSE, COPYING or README file beside it), then the copyright file of the
Debian package that installed it (machine-readable DEP-5 stanzas only). A kit without one is
never rendered into a corpus that may be shipped."""

from __future__ import annotations

import fnmatch
import functools
import re
import shutil
import subprocess
from pathlib import Path

from drumgrid.training.kits.base import KitTerms

LICENCE_FILES = ("LICENSE", "LICENCE", "COPYING", "LICENSE.txt", "LICENCE.txt", "COPYING.txt")
README_FILES = ("README", "README.txt", "README.md", "readme.txt", "Readme.txt")
# A licence named in free text: the words that make a README line a licence statement.
LICENCE_WORDS = re.compile(
    r"licen[cs]e|\bGPL\b|creative commons|\bCC[- ]?(BY|0)\b|public domain|\bMIT\b|\bBSD\b",
    re.IGNORECASE,
)
UNKNOWN = {"", "undefined license", "unknown", "none", "n/a", "undefined"}
DEBIAN_DOC = Path("/usr/share/doc")


def known(text: str | None) -> str | None:
    """A declared licence or author, or None when it is empty or a placeholder."""
    text = " ".join((text or "").split())
    return None if text.lower() in UNKNOWN else text


def folder_licence(folder: Path, levels: int = 1) -> tuple[str, Path] | None:
    """(licence, file) from a LICENSE/COPYING file (its first line) or a README's first line
    that names a licence, in `folder` or up to `levels` folders above it."""
    for where in [folder, *list(folder.parents)[:levels]]:
        for name in LICENCE_FILES:
            text = _read(where / name)
            first = next((line.strip() for line in text.splitlines() if line.strip()), "")
            if first:
                return first[:200], where / name
        for name in README_FILES:
            for line in _read(where / name).splitlines():
                if LICENCE_WORDS.search(line) and len(line.split()) >= 2:
                    return line.strip(" =#*-\t")[:200], where / name
    return None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
    except OSError:
        return ""


@functools.cache
def debian_package(path: Path) -> str | None:
    """The Debian package that installed `path` (dpkg -S), or None."""
    if shutil.which("dpkg") is None:
        return None
    try:
        done = subprocess.run(
            ["dpkg", "-S", str(path)], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0 or ":" not in done.stdout:
        return None
    return done.stdout.split(":", 1)[0].split(",")[0].strip() or None


def debian_terms(package: str, path: Path) -> tuple[str, str | None] | None:
    """(licence, copyright holder) for `path` from the package's DEP-5 copyright file: the
    stanza whose Files pattern names the file or its kit folder (a packaged archive such as
    drumkits/<folder>.h2drumkit counts), else the `Files: *` stanza."""
    text = _read(DEBIAN_DOC / package / "copyright")
    if not text.startswith("Format:"):
        return None
    names = {path.name, path.parent.name}
    fallback = None
    for stanza in re.split(r"\n\s*\n", text):
        fields = _fields(stanza)
        if "files" not in fields or "license" not in fields:
            continue
        licence = fields["license"].splitlines()[0].strip()
        holder = (fields.get("copyright") or "").splitlines()[0].strip() or None
        patterns = fields["files"].split()
        if patterns == ["*"]:
            fallback = fallback or (licence, holder)
        elif any(fnmatch.fnmatch(name, _stem(p)) for p in patterns for name in names):
            return licence, holder
    return fallback


def _stem(pattern: str) -> str:
    """drumkits/The?Black?Pearl?1.0.h2drumkit -> The?Black?Pearl?1.0 (a kit folder's name)."""
    name = pattern.rsplit("/", 1)[-1]
    return name[: -len(".h2drumkit")] if name.endswith(".h2drumkit") else name


def _fields(stanza: str) -> dict[str, str]:
    """A DEP-5 stanza's fields (lower-case names; continuation lines joined by newlines)."""
    fields: dict[str, str] = {}
    key = None
    for line in stanza.splitlines():
        if line[:1] in (" ", "\t") and key:
            fields[key] += "\n" + line.strip()
        elif ":" in line:
            key, _, value = line.partition(":")
            key = key.strip().lower()
            fields[key] = value.strip()
    return fields


def find_terms(
    path: Path, licence: str | None = None, author: str | None = None, levels: int = 1
) -> KitTerms:
    """A kit's terms: the licence and author its own file declares, else a licence file in its
    folder (or `levels` above), else its Debian package's copyright file."""
    licence, author = known(licence), known(author)
    package = debian_package(path.resolve())
    source = path.name if licence else None
    if licence is None and (found := folder_licence(path.parent, levels)) is not None:
        licence, source = found[0], str(found[1])
    if (licence is None or author is None) and package is not None:
        terms = debian_terms(package, path.resolve())
        if terms is not None:
            if licence is None:
                licence, source = terms[0], f"{DEBIAN_DOC / package / 'copyright'}"
            author = author or terms[1]
    return KitTerms(licence, author, package, source)
