"""Reading an SFZ file before sfizz does: sfizz logs what it cannot parse and plays on, so a
typo would silently drop regions from a corpus. This reader checks the structure (headers,
opcode=value pairs, #define and #include, numbers and note names where the format wants
them) and that every sample exists and is audio, naming the file and line of each fault.
It also flattens the kit into one file with its samples linked beside it, which is what the
sfizz renderer loads (with sfizz's load-samples-into-RAM hint, so no voice waits on a disk
stream)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from drumgrid.server.errors import UserError

HEADERS = {"region", "group", "control", "global", "master", "curve", "effect", "midi", "sample"}
LEVELS = ("global", "master", "group", "region")  # each inherits the opcodes of those before
KEY_OPCODES = {"key", "lokey", "hikey", "pitch_keycenter", "sw_last", "sw_lokey", "sw_hikey"}
INT_OPCODES = {
    "lovel",
    "hivel",
    "group",
    "off_by",
    "polyphony",
    "note_polyphony",
    "seq_length",
    "seq_position",
    "lochan",
    "hichan",
    "note_offset",
    "octave_offset",
    "transpose",
}
FLOAT_OPCODES = {
    "volume",
    "pan",
    "amplitude",
    "tune",
    "amp_veltrack",
    "gain",
    "width",
    "position",
    "lorand",
    "hirand",
    "delay",
    "offset",
    "end",
}
PATH_OPCODES = {"sample", "default_path"}
TRIGGERS_ON_NOTE_ON = {"attack", "first", "legato"}
NOTE = re.compile(r"^([a-g])(#|b)?(-?\d+)$", re.IGNORECASE)
NOTE_STEPS = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}
OPCODE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=")
NEXT_TOKEN = re.compile(r"\s+(?=[A-Za-z_][A-Za-z0-9_]*=)|(?=<)")
MAX_INCLUDE_DEPTH = 16
VARYING_OPCODES = {"lorand", "hirand", "seq_length", "seq_position"}
SFIZZ_FORMATS = {"WAV", "WAVEX", "W64", "RF64", "AIFF", "FLAC", "OGG/VORBIS"}  # soundfile names
RAM_HINT = "hint_ram_based=1"  # sfizz: load whole samples, not a preloaded head + a stream


@dataclass(frozen=True)
class Token:
    """A header (`value` empty) or an opcode, where it was written."""

    kind: str  # "header" | "opcode"
    name: str
    value: str
    file: Path
    line: int

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class Region:
    """A region with everything it inherits from <global>, <master> and <group>."""

    opcodes: dict[str, str]
    where: str
    sample: Path | None = None  # the file it plays; None for a generator such as *sine

    @property
    def keys(self) -> range:
        lo = _note(self.opcodes.get("lokey", self.opcodes.get("key", "0")))
        hi = _note(self.opcodes.get("hikey", self.opcodes.get("key", "127")))
        shift = int(self.opcodes.get("note_offset", "0")) + 12 * int(
            self.opcodes.get("octave_offset", "0")
        )
        return range(max(0, lo + shift), min(127, hi + shift) + 1)

    @property
    def velocities(self) -> range:
        return range(int(self.opcodes.get("lovel", "1")), int(self.opcodes.get("hivel", "127")) + 1)

    @property
    def sounds_on_note_on(self) -> bool:
        """Whether a note-on plays it (not a release trigger, not silence)."""
        trigger = self.opcodes.get("trigger", "attack")
        return trigger in TRIGGERS_ON_NOTE_ON and self.opcodes.get("sample") != "*silence"


@dataclass
class SfzFile:
    """A checked SFZ kit: its tokens (defines applied, includes expanded) and regions."""

    path: Path
    tokens: list[Token]
    regions: list[Region] = field(default_factory=list)

    def sounds(self, pitch: int, velocity: int) -> bool:
        return any(
            r.sounds_on_note_on and pitch in r.keys and velocity in r.velocities
            for r in self.regions
        )

    def samples(self) -> list[Path]:
        return sorted({r.sample for r in self.regions if r.sample is not None})

    @property
    def varies(self) -> bool:
        """Whether it picks samples at random or in rotation: sfizz's random generator and
        sequence counters run on across files, so such a kit's audio depends on the order a
        worker renders files in."""
        names = {name for r in self.regions for name in r.opcodes}
        return bool(names & VARYING_OPCODES) or any(n.endswith("_random") for n in names)


def _note(text: str) -> int:
    """A MIDI key from a number or a note name (c4 = 60, as sfizz reads it)."""
    if text.lstrip("-").isdigit():
        return int(text)
    m = NOTE.match(text)
    if m is None:
        raise ValueError(text)
    step = NOTE_STEPS[m.group(1).lower()] + {"#": 1, "b": -1, None: 0}[m.group(2)]
    return 12 * (int(m.group(3)) + 1) + step


def _check_value(name: str, value: str, where: str) -> None:
    """Numbers where the format wants numbers: a stray word in one is a typo sfizz ignores."""
    try:
        if name in KEY_OPCODES:
            _note(value)
        elif name in INT_OPCODES:
            int(value)
        elif name in FLOAT_OPCODES:
            float(value)
        else:
            return
    except ValueError:
        raise UserError(
            f"{where}: {name}={value!r} is not a {'note' if name in KEY_OPCODES else 'number'}; "
            "fix the value (a missing space or newline between opcodes often causes this)"
        ) from None


def read_sfz(path: Path) -> SfzFile:
    """Parse and check `path` and every sample it plays; UserError names the first fault."""
    path = path.expanduser().absolute()
    if not path.is_file():
        raise UserError(f"SFZ file {path} does not exist")
    sfz = SfzFile(path, _tokens(path, path.parent, {}, 0))
    sfz.regions = _regions(sfz)
    if not sfz.regions:
        raise UserError(f"{path}: no <region> plays a sample; an SFZ kit needs regions")
    check_audio(sfz.samples())
    return sfz


def _tokens(path: Path, root: Path, defines: dict[str, str], depth: int) -> list[Token]:
    """The file's headers and opcodes in order, #defines applied and #includes expanded
    (include paths are relative to the top file's folder, as sfizz reads them)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserError(f"SFZ file {path}: cannot read it ({exc.strerror})") from None
    text = raw.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.DOTALL)
    tokens: list[Token] = []
    for number, full in enumerate(text.split("\n"), start=1):
        line = full.split("//", 1)[0].strip()
        where = f"{path}:{number}"
        if line.startswith("#"):
            tokens += _directive(line, where, root, defines, depth)
            continue
        for name in sorted(defines, key=len, reverse=True):
            line = line.replace(name, defines[name])
        tokens += _line_tokens(line, path, number)
    return tokens


def _directive(
    line: str, where: str, root: Path, defines: dict[str, str], depth: int
) -> list[Token]:
    word, _, rest = line.partition(" ")
    rest = rest.strip()
    if word == "#define":
        name, _, value = rest.partition(" ")
        if not name.startswith("$") or len(name) < 2 or not value.strip():
            raise UserError(f"{where}: expected `#define $NAME value`, got {line!r}")
        defines[name] = value.strip()
        return []
    if word == "#include":
        m = re.fullmatch(r'"([^"]+)"', rest)
        if m is None:
            raise UserError(f'{where}: expected `#include "file.sfz"`, got {line!r}')
        target = root / m.group(1).replace("\\", "/")
        if depth >= MAX_INCLUDE_DEPTH:
            raise UserError(f"{where}: #include nested over {MAX_INCLUDE_DEPTH} deep (a loop?)")
        if not target.is_file():
            raise UserError(f"{where}: #include {m.group(1)!r}: no such file {target}")
        return _tokens(target, root, defines, depth + 1)
    raise UserError(f"{where}: unknown directive {word!r}; SFZ has #define and #include")


def _line_tokens(line: str, path: Path, number: int) -> list[Token]:
    tokens: list[Token] = []
    where = f"{path}:{number}"
    at = 0
    while at < len(line):
        if line[at].isspace():
            at += 1
            continue
        if line[at] == "<":
            end = line.find(">", at)
            name = line[at + 1 : end] if end > 0 else ""
            if end < 0 or name not in HEADERS:
                shown = line[at : end + 1] if end > 0 else line[at:]
                raise UserError(
                    f"{where}: unknown header {shown!r}; expected one of "
                    + ", ".join(f"<{h}>" for h in sorted(HEADERS))
                )
            tokens.append(Token("header", name, "", path, number))
            at = end + 1
            continue
        m = OPCODE.match(line, at)
        if m is None:
            raise UserError(
                f"{where}: expected <header> or opcode=value, found {line[at : at + 30]!r}"
            )
        stop = NEXT_TOKEN.search(line, m.end())
        end = stop.start() if stop else len(line)
        name, value = m.group(1), line[m.end() : end].strip()
        if not value:
            raise UserError(f"{where}: {name}= has no value")
        if " " in value and name not in PATH_OPCODES and "label" not in name and name != "image":
            raise UserError(f"{where}: {name}={value!r}: unexpected text after the value")
        _check_value(name, value, where)
        tokens.append(Token("opcode", name, value, path, number))
        at = end
    return tokens


def _regions(sfz: SfzFile) -> list[Region]:
    """Every <region> with its inherited opcodes and resolved sample."""
    levels: dict[str, dict[str, str]] = {level: {} for level in LEVELS}
    control: dict[str, str] = {}
    regions: list[Region] = []
    current = ""
    start = ""
    for tok in [*sfz.tokens, Token("header", "control", "", sfz.path, 0)]:
        if tok.kind == "header":
            if current == "region":
                opcodes = {k: v for level in LEVELS for k, v in levels[level].items()}
                regions.append(_region(sfz.path.parent, control, opcodes, start))
            if tok.name in LEVELS:  # a level resets itself and the levels below it
                for level in LEVELS[LEVELS.index(tok.name) :]:
                    levels[level] = {}
            current, start = tok.name, tok.where
        elif not current:
            raise UserError(f"{tok.where}: opcode {tok.name} before any <header>")
        elif current == "control":
            control[tok.name] = tok.value
        elif current in LEVELS:
            levels[current][tok.name] = tok.value
    return [r for r in regions if r.opcodes.get("sample")]


def _region(root: Path, control: dict[str, str], opcodes: dict[str, str], where: str) -> Region:
    for name in ("note_offset", "octave_offset"):
        if name in control:
            opcodes.setdefault(name, control[name])
    region = Region(opcodes, where)
    sample = opcodes.get("sample", "")
    if sample and not sample.startswith("*"):
        default = control.get("default_path", "").replace("\\", "/")
        region.sample = _find(root / default / sample.replace("\\", "/"), where, sample)
    return region


def _find(path: Path, where: str, written: str) -> Path:
    """The sample file, matching names case-insensitively as sfizz does for kits made on
    Windows or macOS; UserError when it is not there."""
    if path.is_file():
        return path
    parts = path.parts
    found = Path(parts[0])
    for part in parts[1:]:
        if (found / part).exists():
            found = found / part
            continue
        try:
            match = next((c for c in os.listdir(found) if c.lower() == part.lower()), None)
        except OSError:
            match = None
        if match is None:
            raise UserError(
                f"{where}: sample {written!r} not found (looked for {path}); fix the path in "
                "the SFZ file or put the sample there"
            )
        found = found / match
    return found


def check_audio(samples: list[Path]) -> None:
    """Every sample is audio sfizz plays (WAV, Wave64, AIFF, FLAC, Ogg Vorbis); UserError names
    the one that is not (sfizz itself plays silence for the rest, or drops the region)."""
    import soundfile as sf

    for sample in samples:
        try:
            info = sf.info(str(sample))
        except (RuntimeError, sf.LibsndfileError) as exc:
            raise UserError(
                f"sample {sample}: not a readable audio file ({exc}); convert it to WAV or FLAC"
            ) from None
        kind = info.format if info.format != "OGG" else f"OGG/{info.subtype}"
        if kind not in SFIZZ_FORMATS:
            raise UserError(
                f"sample {sample}: {info.format_info} ({info.subtype_info}), which sfizz cannot "
                "play; convert it to WAV or FLAC"
            )


def write_flat(sfz: SfzFile, folder: Path) -> Path:
    """One SFZ file in `folder` holding the whole kit, each sample linked beside it, with the
    RAM hint first (without it sfizz streams all but each sample's head, and a voice that
    outruns the stream plays silence even offline)."""
    links: dict[Path, str] = {}
    lines = ["<control>", RAM_HINT]
    header, default = "", ""
    for tok in sfz.tokens:
        if tok.kind == "header":
            header = tok.name
            lines.append(f"<{tok.name}>")
            if tok.name == "control":
                lines.append(RAM_HINT)
        elif tok.name == "default_path":
            default = tok.value.replace("\\", "/") if header == "control" else default
        elif tok.name == "sample" and not tok.value.startswith("*"):
            written = sfz.path.parent / default / tok.value.replace("\\", "/")
            target = _find(written, tok.where, tok.value)
            if target not in links:
                links[target] = f"s{len(links):05d}{target.suffix.lower()}"
                _link(target, folder / links[target])
            lines.append(f"sample={links[target]}")
        else:
            lines.append(f"{tok.name}={tok.value}")
    out = folder / "kit.sfz"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def _link(target: Path, link: Path) -> None:
    try:
        link.symlink_to(target.resolve())
    except OSError:  # no symlinks here (Windows without the privilege): copy instead
        import shutil

        shutil.copyfile(target, link)
