"""Drum kits the corpus renders through: SoundFonts (FluidSynth), SFZ files and Hydrogen
drumkits (both played by sfizz). Each source module turns a kit on disk into a `KitSource`
(kits.base) with one `open(sample_rate).render(hits, duration_s)`; kits.spec picks the source
from a `--kit NAME=PATH` argument and kits.available lists what this machine has."""
