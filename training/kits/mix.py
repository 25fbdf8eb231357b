"""Kit mixes: a kit whose kick, snare, hi-hats, toms, crash and ride each come from another
kit. Twenty recorded and sampled kits are twenty voices to learn a kit prompt from; their
mixes are thousands, each a drum set a player could assemble, so a prompted model meets far
more kits than the corpus has. The hi-hats stay one kit's (the open hat is choked by its own
closed and pedal hats), and so do the toms (one set, tuned together). A mix may also voice each
group (training/kits/voicing.py: retuned, brighter or darker), so that its sounds are not only
the twenty kits' own."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from drumgrid.server.drums import DrumClass, drum_class
from drumgrid.server.errors import UserError
from drumgrid.training.kits.base import Hit, KitRenderer, KitSource, KitTerms, NamedKit
from drumgrid.training.kits.voicing import MAX_BRIGHT_DB, MAX_SEMITONES, Voicing, render_voiced

# The parts a mix draws from its kits, each one kit's.
GROUPS: dict[str, tuple[DrumClass, ...]] = {
    "kick": (DrumClass.KICK,),
    "snare": (DrumClass.SNARE,),
    "hihat": (DrumClass.HIHAT_CLOSED, DrumClass.HIHAT_OPEN),
    "toms": (DrumClass.TOM_LOW, DrumClass.TOM_MID, DrumClass.TOM_HIGH),
    "crash": (DrumClass.CRASH,),
    "ride": (DrumClass.RIDE,),
}
GROUP_OF = {cls: group for group, classes in GROUPS.items() for cls in classes}
MIN_KITS = 3  # a random mix draws from at least this many kits (else it is nearly one kit)


@dataclass(frozen=True)
class MixedKit(NamedKit):
    """`parts`: (group, kit) for every group of GROUPS, in its order; `voicing`: none, or one
    per group in the same order."""

    name: str
    parts: tuple[tuple[str, KitSource], ...]
    voicing: tuple[Voicing, ...] = ()
    source: ClassVar[str] = "mix"

    def __post_init__(self) -> None:
        groups = [group for group, _ in self.parts]
        if groups != list(GROUPS):
            raise UserError(f"kit mix {self.name}: parts {groups}; expected {list(GROUPS)}")
        if self.voicing and len(self.voicing) != len(GROUPS):
            raise UserError(f"kit mix {self.name}: {len(self.voicing)} voicings; expected "
                            f"{len(GROUPS)}, one per group")  # fmt: skip

    def voiced(self, group: str) -> Voicing:
        return self.voicing[list(GROUPS).index(group)] if self.voicing else Voicing()

    @property
    def kits(self) -> dict[str, KitSource]:
        """Its kits by name, each once."""
        return {kit.name: kit for _, kit in self.parts}

    @property
    def path(self) -> Path:
        return self.parts[0][1].path

    @property
    def terms(self) -> KitTerms:
        """Every part's licence: the mix is shipped under all of them."""
        kits = self.kits.values()
        licences = dict.fromkeys(k.terms.licence or "see the kit's own terms" for k in kits)
        return KitTerms(" + ".join(licences), None, None, "its kits' terms")

    def record(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "source": self.source,
            "parts": {group: kit.name for group, kit in self.parts},
            "kits": {name: kit.record() for name, kit in sorted(self.kits.items())},
            "licence": self.terms.licence,
        }
        if self.voicing:
            record["voicing"] = {g: self.voiced(g).record() for g in GROUPS}
        return record

    def open(self, sample_rate: int) -> KitRenderer:
        return self.open_with(lambda kit: kit.open(sample_rate), sample_rate, owns=True)

    def open_with(
        self, open_kit: Callable[[KitSource], KitRenderer], sample_rate: int, owns: bool = False
    ) -> MixedRenderer:
        """A renderer playing its kits through `open_kit`'s renderers: a corpus shares one
        per kit among all its mixes (a sampled kit holds its samples in memory)."""
        renderers = {name: open_kit(kit) for name, kit in self.kits.items()}
        return MixedRenderer(self, renderers, sample_rate, owns)


class MixedRenderer:
    """Each kit of the mix plays the hits of its groups, each voicing of it apart; the renders
    are summed."""

    def __init__(
        self, mix: MixedKit, renderers: dict[str, KitRenderer], sample_rate: int, owns: bool
    ) -> None:
        self.renderers, self.sample_rate, self.owns = renderers, sample_rate, owns
        self.part_of = {cls: (kit.name, mix.voiced(group))
                        for group, kit in mix.parts for cls in GROUPS[group]}  # fmt: skip

    def render(self, hits: Iterable[Hit], duration_s: float, mono: bool = True) -> np.ndarray:
        # parts in the order they first appear in the mix: unvoiced, each kit sums as before
        by_part: dict[tuple[str, Voicing], list[Hit]] = {p: [] for p in self.part_of.values()}
        for hit in hits:
            cls = drum_class(hit[1])
            if cls is not None:  # a pitch no class reaches (no GMD pitch): no part plays it
                by_part[self.part_of[cls]].append(hit)
        # A part with no hits here would render exact zeros: skipped (one renders the silence
        # of a file with no hits at all, for its shape).
        playing = [(key, part) for key, part in by_part.items() if part]
        waves = [render_voiced(self.renderers[kit], part, duration_s, self.sample_rate, voicing,
                               mono)
                 for (kit, voicing), part in playing or [(next(iter(by_part)), [])]]  # fmt: skip
        return np.asarray(np.sum(waves, axis=0), np.float32)

    def close(self) -> None:
        if self.owns:
            for renderer in self.renderers.values():
                renderer.close()


def plays(kit: KitSource, group: str) -> bool:
    """Whether the kit sounds every class of the group (a sample kit says which classes it
    plays; a SoundFont kit is taken to play them all)."""
    classes = getattr(kit, "classes", None)
    return classes is None or all(cls.label in classes for cls in GROUPS[group])


def random_mixes(
    kits: Sequence[KitSource], count: int, seed: int, tune: float = 0.0, bright: float = 0.0
) -> list[MixedKit]:
    """`count` mixes named mix-SEED-I, each group's kit drawn uniformly from the `kits` that
    play it, each mix drawing from at least MIN_KITS of them and none the same as another.
    With `tune` or `bright`, each group is voiced: semitones and dB of shelf uniform within
    +-tune and +-bright (to 0.1), drawn apart from the kits, so the mixes' kits stay those
    of the same seed unvoiced."""
    if not 0.0 <= tune <= MAX_SEMITONES:
        raise UserError(f"--mix-tune {tune:g}: expected 0-{MAX_SEMITONES:g} semitones")
    if not 0.0 <= bright <= MAX_BRIGHT_DB:
        raise UserError(f"--mix-bright {bright:g}: expected 0-{MAX_BRIGHT_DB:g} dB")
    k = len(kits)
    if k < MIN_KITS:
        raise UserError(f"kit mixes need at least {MIN_KITS} --kit kits, got {k}")
    able = [[i for i, kit in enumerate(kits) if plays(kit, group)] for group in GROUPS]
    missing = [group for group, ids in zip(GROUPS, able, strict=True) if not ids]
    if missing:
        raise UserError(f"no --kit kit plays every sound of {', '.join(missing)}")
    possible = int(np.prod([len(ids) for ids in able], dtype=np.float64))
    if count > possible // 2:  # a bound with room for the mixes of fewer than MIN_KITS kits
        raise UserError(f"{count} kit mixes asked of {k} kits; ask for at most {possible // 2}")
    rng, voice_rng = np.random.default_rng(seed), np.random.default_rng([seed, 1])
    mixes: list[MixedKit] = []
    seen: set[tuple[int, ...]] = set()
    while len(mixes) < count:
        picks = tuple(ids[int(rng.integers(len(ids)))] for ids in able)
        if len(set(picks)) < MIN_KITS or picks in seen:
            continue
        seen.add(picks)
        parts = tuple((group, kits[i]) for group, i in zip(GROUPS, picks, strict=True))
        voicing: tuple[Voicing, ...] = ()
        if tune or bright:
            draws = voice_rng.uniform(-1.0, 1.0, (len(GROUPS), 2)) * (tune, bright)
            voicing = tuple(Voicing(float(round(s, 1)) + 0.0, float(round(b, 1)) + 0.0)
                            for s, b in draws)  # fmt: skip
        mixes.append(MixedKit(f"mix-{seed}-{len(mixes):04d}", parts, voicing))
    return mixes
