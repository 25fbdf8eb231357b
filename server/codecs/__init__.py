"""Neural audio codecs behind one interface: waveform <-> tokens [K, T].

`load_codec(id)` builds a registered codec from local weights; `build_random(id)` builds the
same class with a tiny random-initialised config for tests.
"""

from drumgrid.server.codecs.base import Codec
from drumgrid.server.codecs.registry import CODECS, CodecSpec, build_random, codec_spec, load_codec

__all__ = ["CODECS", "Codec", "CodecSpec", "build_random", "codec_spec", "load_codec"]
