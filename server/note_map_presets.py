"""The default MIDI note maps of drum plug-ins, folded into drumgrid's nine classes (data only;
`note_maps.py` registers them as presets).

Each table is pitch -> (the plug-in's name for the articulation, class or None). None keeps
the name for reports but drops the note: a pitch with no class is counted and reported, never
played. Only maps that two independent public sources agree on are here; docs/note_maps.md
lists the sources, the plug-ins left out and why.

Articulations fold by sound, as drums.py folds General MIDI:
  - hi-hat: a hat struck at any opening (Open 0-5, Open A-D, half, loose, open bell) and the
    foot splash -> hihat_open; closed, tight, the pedal chick, the closed bell and sequenced
    closed hits -> hihat_closed. (Roland modules send the open-hat notes 46/26 whenever the
    pedal is not closed, so GMD's hihat_open already holds half-open hats.) Notes whose
    opening follows a pedal controller (CC4), which drumgrid does not read, -> hihat_closed.
  - snare: rimshot, sidestick, rim click, rim only, shallow/edge hits, flams, ruffs, wires
    off, brush taps and sweeps, and positional (CC) notes -> snare.
  - toms: floor toms -> tom_low; of the rack toms the highest -> tom_high, the others ->
    tom_mid; a tom's rimshot or rim-only plays as its tom.
  - cymbals: crash, china, splash, stack, a crash ridden on its bow or bell -> crash; ride bow,
    shaft/shank, bell and edge/crash -> ride (a bell cymbal's ping too).
  - chokes and mutes (a hand stopping a cymbal) -> None; user slots that hold any instrument
    (AD2's Flex pads) -> None.
"""

from __future__ import annotations

from collections.abc import Mapping

from drumgrid.server.drums import DrumClass

K = DrumClass.KICK
S = DrumClass.SNARE
HC = DrumClass.HIHAT_CLOSED
HO = DrumClass.HIHAT_OPEN
TL = DrumClass.TOM_LOW
TM = DrumClass.TOM_MID
TH = DrumClass.TOM_HIGH
CR = DrumClass.CRASH
RD = DrumClass.RIDE

Table = Mapping[int, tuple[str, DrumClass | None]]

# XLN Audio Addictive Drums 2, default map. Sources: nekonenene/AD2-Map-for-StudioOne
# "AD2 Standard.pitchlist" (3-104), markheath/midifilemapper MidiFileMapper/Maps/AD to GM.xml
# and GM to AD.xml (36-82, AD1's names: "Pearl" for Tip). Tom 4 and Tom 3 are the floor toms
# (the GM converter above sends them to 41 and 43). Sticks (a stick click, like GM's claves)
# -> snare.
AD2_TABLE: Table = {
    3: ("Ride 2 CCPos Tip<->Bell", RD), 4: ("Ride 1 CCPos Tip<->Bell", RD),
    5: ("Snare CCPos Closed<->Shallow (brush)", S), 6: ("Snare CCPos Open<->Shallow", S),
    7: ("HiHat CC Shaft", HC), 8: ("HiHat CC Tip", HC), 9: ("HiHat CC Bell", HC),
    26: ("Sweep: Short 1 (brush)", S), 28: ("Sweep: Short 2 (brush)", S),
    29: ("Sweep: No Accent (brush)", S), 30: ("Sweep: Fast Bright Acc (brush)", S),
    31: ("Sweep: Slow Bright Acc (brush)", S), 32: ("Sweep: Fast Dark Acc (brush)", S),
    33: ("Sweep: Slow Dark Acc (brush)", S), 34: ("Sweep: Mute (brush)", S),
    35: ("Closed Soft Tap (brush)", S),
    36: ("Kick", K),
    37: ("Snare RimShot", S), 38: ("Snare Open Hit", S), 39: ("Snare RimShot (dbl)", S),
    40: ("Snare Open Hit (dbl)", S), 41: ("Snare Shallow RimShot", S),
    42: ("Snare SideStick", S), 43: ("Snare Shallow Hit", S), 44: ("Snare RimClick", S),
    45: ("Ride 1 Tip (dbl)", RD), 46: ("Cymbal 1 (dbl)", CR), 47: ("Flex 1 Hit A", None),
    48: ("HH Foot Close", HC), 49: ("HH Closed1 Tip", HC), 50: ("HH Closed1 Shaft", HC),
    51: ("HH Closed2 Tip", HC), 52: ("HH Closed2 Shaft", HC), 53: ("HH Closed Bell", HC),
    54: ("HH Open A", HO), 55: ("HH Open B", HO), 56: ("HH Open C", HO), 57: ("HH Open D", HO),
    58: ("HH Open Bell", HO), 59: ("HH Foot Splash", HO),
    60: ("Ride 1 Tip", RD), 61: ("Ride 1 Bell", RD), 62: ("Ride 1 Shaft", RD),
    63: ("Ride 1 Choke", None),
    65: ("Tom 4 Open Hit", TL), 66: ("Tom 4 Rimshot", TL),
    67: ("Tom 3 Open Hit", TL), 68: ("Tom 3 Rimshot", TL),
    69: ("Tom 2 Open Hit", TM), 70: ("Tom 2 Rimshot", TM),
    71: ("Tom 1 Open Hit", TH), 72: ("Tom 1 Rimshot", TH),
    73: ("Flex 1 Hit B", None), 74: ("Flex 1 Hit C", None), 75: ("Sticks", S),
    76: ("Flex 1 Hit D", None),
    77: ("Cymbal 1", CR), 78: ("Cymbal 1 Choke", None), 79: ("Cymbal 2", CR),
    80: ("Cymbal 2 Choke", None), 81: ("Cymbal 3", CR), 82: ("Cymbal 3 Choke", None),
    84: ("Ride 2 Tip", RD), 85: ("Ride 2 Bell", RD), 86: ("Ride 2 Shaft", RD),
    87: ("Ride 2 Choke", None),
    89: ("Cymbal 4", CR), 90: ("Cymbal 4 Choke", None), 91: ("Cymbal 5", CR),
    92: ("Cymbal 5 Choke", None), 93: ("Cymbal 6", CR), 94: ("Cymbal 6 Choke", None),
    96: ("Flex 2 Hit A", None), 97: ("Flex 2 Hit B", None), 98: ("Flex 2 Hit C", None),
    99: ("Flex 2 Hit D", None),
}  # fmt: skip

# Toontrack EZdrummer, the core layout (21-82) its kits share. Sources: jim/
# cubase_drum_maps_for_toontrack toontrack_kits.csv (column "EZD Pop/Rock"), markheath/
# midifilemapper MidiFileMapper/EZD to AD.xml ("EZD standard kit", 21-65) and Maps/EZD to GM.xml.
# 44: the csv names it the open pedal, the converter GM's pedal hi-hat, and Toontrack's forum
# (EZdrummer 2) the closed pedal -> hihat_closed. 56 is the kit's cowbell -> snare, as
# drums.py folds GM's cowbell. The mutes drop; 76 (cowbell or ride by kit) is left out.
EZD_TABLE: Table = {
    21: ("Hats Closed Pedal", HC), 22: ("Hats Closed Edge", HC), 23: ("Hats Open Pedal", HO),
    24: ("Hats Open 1", HO), 25: ("Hats Open 2", HO), 26: ("Hats Open 3", HO),
    27: ("Crash A (alias)", CR), 28: ("Crash A (alias)", CR), 29: ("Crash A (alias)", CR),
    30: ("Crash B (alias)", CR), 31: ("Crash B (alias)", CR), 32: ("Crash B (alias)", CR),
    33: ("Snare Left", S), 34: ("Kick (alias)", K), 35: ("Kick (alias)", K), 36: ("Kick", K),
    37: ("Snare Sidestick", S), 38: ("Snare Right", S), 39: ("Snare Right (alias)", S),
    40: ("Snare Rimshot", S), 41: ("Floortom (alias)", TL), 42: ("Hats Closed Tip", HC),
    43: ("Floortom", TL), 44: ("Hats Pedal", HC), 45: ("Racktom 2 (alias)", TM),
    46: ("Hats Open 2", HO), 47: ("Racktom 2", TM), 48: ("Racktom 1 (alias)", TH),
    49: ("Crash A", CR), 50: ("Racktom 1", TH), 51: ("Ride", RD), 52: ("Crash B", CR),
    53: ("Ride Bell", RD), 54: ("Crash A Mute", None), 55: ("Crash A", CR),
    56: ("Cowbell", S), 57: ("Crash B", CR), 58: ("Crash B Mute", None),
    59: ("Ride Punch", RD), 60: ("Hats Open 4", HO), 61: ("Hats Closed Tip", HC),
    62: ("Hats Tight Edge", HC), 63: ("Hats Tight Tip", HC), 64: ("Hats Seq Hard", HC),
    65: ("Hats Seq Soft", HC),
    72: ("Floortom Left", TL), 73: ("Floortom Rimshot", TL), 74: ("Floortom Left", TL),
    75: ("Floortom Rimshot", TL), 77: ("Racktom 2 Left", TM), 78: ("Racktom 2 Rimshot", TM),
    79: ("Racktom 2 Left", TM), 80: ("Racktom 2 Rimshot", TM), 81: ("Racktom 1 Left", TH),
    82: ("Racktom 1 Rimshot", TH),
}  # fmt: skip

# Toontrack Superior Drummer 3, the core library's default map. Sources: chad-ramos/
# studio-one-drum-maps "Superior Drummer 3.pitchlist" (1-127) and a magenta-js fork's
# constants.ts "modded for Toontrack MIDI inference" (60 of these pitches, same articulations);
# the 5-articulation cymbal blocks 83-118 match jim/cubase_drum_maps_for_toontrack's SDX
# columns. Left out: 1-4 (the sources disagree), 70 and 76 (one source each). "Mute Hit" is
# Toontrack's choke note -> dropped; 64 "Open Edge 0" (the least open step) -> hihat_open.
SD3_TABLE: Table = {
    6: ("Snare Zone Trigger", S),
    7: ("HH Edge Trigger", HC), 8: ("HH Tip Trigger", HC), 9: ("HH Shaft Trigger", HC),
    10: ("HH Closed Pedal", HC), 11: ("HH Closed Tip", HC),
    12: ("HH Open Tip 0", HO), 13: ("HH Open Tip 1", HO), 14: ("HH Open Tip 2", HO),
    15: ("HH Open Tip 3", HO), 16: ("HH Open Tip 4", HO), 17: ("HH Open Tip 5", HO),
    18: ("HH Edge Trigger", HC), 19: ("HH Tip Trigger", HC), 20: ("HH Bell Trigger", HC),
    21: ("HH Closed Pedal", HC), 22: ("HH Closed Edge", HC), 23: ("HH Open Pedal", HO),
    24: ("HH Open Edge 1", HO), 25: ("HH Open Edge 2", HO), 26: ("HH Open Edge 3", HO),
    27: ("Cymbal 2 Bow Tip", CR), 28: ("Cymbal 2 Bell Shank", CR),
    29: ("Ride Bow Shank", RD), 30: ("Ride Bell Tip", RD),
    31: ("Cymbal 4 Bow Tip", CR), 32: ("Cymbal 4 Bell Shank", CR),
    33: ("Snare Edge", S), 34: ("Kick Open", K), 35: ("Kick Hit", K), 36: ("Kick Open", K),
    37: ("Snare Sidestick", S), 38: ("Snare Center", S), 39: ("Snare Ruff", S),
    40: ("Snare Rimshot", S), 41: ("Floortom 2 Center", TL), 42: ("HH Closed Tip", HC),
    43: ("Floortom 1 Center", TL), 44: ("HH Closed Pedal", HC),
    45: ("Racktom 3 Center", TM), 46: ("HH Open Edge 2", HO), 47: ("Racktom 2 Center", TM),
    48: ("Racktom 1 Center", TH), 49: ("Cymbal 2 Crash", CR), 50: ("Cymbal 2 Mute Hit", None),
    51: ("Ride Bow Tip", RD), 52: ("Cymbal 5 Crash", CR), 53: ("Ride Bell Shank", RD),
    54: ("Cymbal 5 Mute Hit", None), 55: ("Cymbal 3 Crash", CR),
    56: ("Cymbal 3 Mute Hit", None), 57: ("Cymbal 4 Crash", CR),
    58: ("Cymbal 4 Mute Hit", None), 59: ("Ride Crash", RD), 60: ("HH Open Edge 4", HO),
    61: ("HH Closed Tip", HC), 62: ("HH Tight Edge", HC), 63: ("HH Tight Tip", HC),
    64: ("HH Open Edge 0", HO), 65: ("HH Sequenced Hits", HC),
    66: ("Snare Backward Swirl", S), 67: ("Snare Forward Swirl", S), 68: ("Snare Muted", S),
    69: ("Snare Flam", S), 71: ("Snare Rim Only", S),
    72: ("Floortom 2 Rim Only", TL), 73: ("Floortom 2 Rimshot", TL),
    74: ("Floortom 1 Rim Only", TL), 75: ("Floortom 1 Rimshot", TL),
    77: ("Racktom 3 Rim Only", TM), 78: ("Racktom 3 Rimshot", TM),
    79: ("Racktom 2 Rim Only", TM), 80: ("Racktom 2 Rimshot", TM),
    81: ("Racktom 1 Rim Only", TH), 82: ("Racktom 1 Rimshot", TH),
    83: ("Cymbal 1 Mute Hit", None), 84: ("Cymbal 1 Bow Tip", CR),
    85: ("Cymbal 1 Bell Shank", CR), 86: ("Cymbal 1 Crash", CR),
    87: ("Cymbal 1 Bow Shank", CR), 88: ("Cymbal 1 Bell Tip", CR),
    89: ("Cymbal 2 Bow Tip", CR), 90: ("Cymbal 2 Bell Shank", CR), 91: ("Cymbal 2 Crash", CR),
    92: ("Cymbal 2 Bow Shank", CR), 93: ("Cymbal 2 Bell Tip", CR),
    94: ("Cymbal 2 Mute Hit", None), 95: ("Cymbal 3 Mute Hit", None),
    96: ("Cymbal 3 Bow Tip", CR), 97: ("Cymbal 3 Bell Shank", CR), 98: ("Cymbal 3 Crash", CR),
    99: ("Cymbal 3 Bow Shank", CR), 100: ("Cymbal 3 Bell Tip", CR),
    101: ("Cymbal 4 Bow Tip", CR), 102: ("Cymbal 4 Bell Shank", CR),
    103: ("Cymbal 4 Crash", CR), 104: ("Cymbal 4 Bow Shank", CR),
    105: ("Cymbal 4 Bell Tip", CR), 106: ("Cymbal 4 Mute Hit", None),
    107: ("Cymbal 5 Mute Hit", None), 108: ("Cymbal 5 Bow Tip", CR),
    109: ("Cymbal 5 Bell Shank", CR), 110: ("Cymbal 5 Crash", CR),
    111: ("Cymbal 5 Bow Shank", CR), 112: ("Cymbal 5 Bell Tip", CR),
    113: ("Ride Bow Tip", RD), 114: ("Ride Bell Shank", RD), 115: ("Ride Crash", RD),
    116: ("Ride Bow Shank", RD), 117: ("Ride Bell Tip", RD), 118: ("Ride Mute Hit", None),
    119: ("HH Closed Bell", HC), 120: ("HH Open Bell 0", HO), 121: ("HH Open Bell 1", HO),
    122: ("HH Open Bell 2", HO), 123: ("HH Open Bell 3", HO), 124: ("HH Open Bell 4", HO),
    125: ("Snare Mid Center", S), 126: ("Snare Backward Brush Trigger", S),
    127: ("Snare Forward Brush Trigger", S),
}  # fmt: skip

# GetGood Drums Invasion, default map. Sources: chad-ramos/studio-one-drum-maps
# "GGD Invasion.pitchlist" and gist theflyingcodr/577b462b84961430d8c976ce6bc3a2b3
# ("Invasion Drum Mapping", a REAPER note-name file); they agree on all 47 notes. ADK is the
# automatic double kick; the two "Bell" cymbals' ping -> ride; the stack -> crash.
GGD_INVASION_TABLE: Table = {
    17: ("HH CC", HC),
    22: ("Kick ADK", K), 23: ("Kick Left", K), 24: ("Kick Right", K),
    26: ("Snare Hit", S), 27: ("Snare Flam", S), 28: ("Snare Ruff", S), 29: ("Snare Off", S),
    30: ("Snare Side Stick", S),
    33: ("Rack Tom 1", TH), 34: ("Rack Tom 2", TM), 35: ("Rack Tom 3", TM),
    36: ("Floor Tom 1", TL), 37: ("Floor Tom 2", TL), 38: ("Floor Tom 3", TL),
    41: ("HH Tip Tight", HC), 42: ("HH Edge Tight", HC), 43: ("HH Tip Closed", HC),
    44: ("HH Edge Closed", HC), 45: ("HH Open 1", HO), 46: ("HH Open 2", HO),
    47: ("HH Open 3", HO), 48: ("HH Pedal", HC),
    52: ("Main Crash L Hit", CR), 53: ("Main Crash L Choke", None),
    54: ("Main Crash R Hit", CR), 55: ("Main Crash R Choke", None),
    56: ("Wide Crash L Hit", CR), 57: ("Wide Crash L Choke", None),
    58: ("Wide Crash R Hit", CR), 59: ("Wide Crash R Choke", None),
    61: ("Ride Bell", RD), 62: ("Ride Hit", RD), 63: ("Ride Edge", RD),
    65: ("China L Hit", CR), 66: ("China L Choke", None),
    67: ("China R Hit", CR), 68: ("China R Choke", None),
    70: ("X-Hats Closed", HC), 71: ("X-Hats Open", HO),
    73: ("Splash L Hit", CR), 74: ("Splash L Choke", None),
    75: ("Splash R Hit", CR), 76: ("Splash R Choke", None),
    78: ("Stack Hit", CR), 79: ("Bell L Hit", RD), 80: ("Bell R Hit", RD),
}  # fmt: skip


def classes(table: Table) -> dict[int, DrumClass]:
    """pitch -> class of the pitches a table plays (its dropped articulations left out)."""
    return {p: c for p, (_, c) in table.items() if c is not None}


def names(table: Table) -> dict[int, str]:
    """pitch -> the plug-in's articulation name, dropped ones included (for reports)."""
    return {p: n for p, (n, _) in table.items()}


AD2, AD2_NAMES = classes(AD2_TABLE), names(AD2_TABLE)
EZD, EZD_NAMES = classes(EZD_TABLE), names(EZD_TABLE)
SD3, SD3_NAMES = classes(SD3_TABLE), names(SD3_TABLE)
GGD_INVASION, GGD_INVASION_NAMES = classes(GGD_INVASION_TABLE), names(GGD_INVASION_TABLE)
