"""Reading kits.json entries back: what a kit was rendered from and under which licence, for
the corpus's attribution and the model cards. Entries written before kits carried their
terms (SoundFonts only) get them from the SoundFont table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from drumgrid.training.kits.soundfont import SOUNDFONT_LICENCES, UNKNOWN_TERMS

# Fields that describe a kit without changing its audio: a corpus resumed after they change
# (a licence found later, a newer drumgrid recording more) is still one rendering.
DESCRIPTIVE = {
    "source",
    "licence",
    "author",
    "package",
    "licence_from",
    "classes",
    "unmapped",
    "engine",
}
ENGINES = {"soundfont": "FluidSynth", "sfz": "sfizz", "hydrogen": "sfizz"}


def same_rendering(before: dict[str, Any], now: dict[str, Any]) -> bool:
    """Whether two kits.json entries render the same audio."""

    def key(record: dict[str, Any]) -> dict[str, Any]:
        kept = {k: v for k, v in record.items() if k not in DESCRIPTIVE}
        if "kits" in kept:  # a kit mix: its kits' own entries
            kept["kits"] = {name: key(part) for name, part in kept["kits"].items()}
        return kept

    return key(before) == key(now)


def origin(record: dict[str, Any]) -> str:
    """Where a kit came from, short: 'FluidR3_GM.sf2 (128:32)', 'kit.sfz (SFZ)',
    'GMRockKit (Hydrogen drumkit)'."""
    source = record.get("source", "soundfont")
    if source == "mix":
        by_kit: dict[str, list[str]] = {}
        voicing = record.get("voicing", {})
        for group, kit in record.get("parts", {}).items():
            v = voicing.get(group)
            voiced = f" {v['semitones']:+g} st {v['bright_db']:+g} dB" if v else ""
            by_kit.setdefault(kit, []).append(group + voiced)
        return "a mix of " + ", ".join(f"{k} ({', '.join(g)})" for k, g in by_kit.items())
    if source == "sfz":
        return f"{Path(record.get('sfz', '?')).name} (SFZ)"
    if source == "hydrogen":
        return f"{record.get('kit', '?')} (Hydrogen drumkit)"
    font = Path(record.get("soundfont", "?")).name
    return f"{font} ({record.get('bank', '?')}:{record.get('preset', '?')})"


def package_and_licence(record: dict[str, Any]) -> tuple[str, str]:
    """(Debian package or '-', licence) of a kits.json entry."""
    if record.get("licence"):
        licence = record["licence"]
        if record.get("author") and record["author"] not in licence:
            licence = f"{licence} ({record['author']})"
        return record.get("package") or "-", licence
    font = Path(record.get("soundfont", "?")).name
    return SOUNDFONT_LICENCES.get(font, UNKNOWN_TERMS)


def engines_phrase(records: dict[str, dict[str, Any]]) -> str:
    """How the kits were played: 'SoundFonts played by FluidSynth', 'SFZ kits played by
    sfizz', ... for the kinds present."""
    names = {"soundfont": "SoundFonts", "sfz": "SFZ kits", "hydrogen": "Hydrogen drumkits"}
    played = with_parts(records).values()
    sources = sorted({r.get("source", "soundfont") for r in played} - {"mix"} or {"soundfont"})
    return ", ".join(f"{names[s]} played by {ENGINES[s]}" for s in sources)


def attribution_lines(records: dict[str, dict[str, Any]]) -> list[str]:
    """One Markdown list line per kit: its origin, licence and package."""
    lines = []
    for name, record in sorted(with_parts(records).items()):
        package, licence = package_and_licence(record)
        via = f", Debian package {package}" if package not in ("-", "?") else ""
        lines.append(f"- {name}: {origin(record)}, {licence}{via}")
    return lines


def with_parts(records: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The entries, and the kits each kit mix is made of (whose terms it carries)."""
    out = dict(records)
    for record in records.values():
        for name, part in record.get("kits", {}).items():
            out.setdefault(name, part)
    return out


def voiced_mixes(corpus: Path) -> bool:
    """Whether a corpus's kits.json holds voiced kit mixes (False where it cannot be read)."""
    try:
        kits = json.loads((corpus / "kits.json").read_text()).get("kits", {})
    except (OSError, ValueError, AttributeError):
        return False
    return any(isinstance(k, dict) and k.get("voicing") for k in kits.values())
