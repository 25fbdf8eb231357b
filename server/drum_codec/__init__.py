"""drumgrid's own drum codec: spectral analysis, a frame-rate ConvNeXt encoder and decoder,
a residual vector quantiser and an inverse-STFT head. The heavy work runs at the frame rate
(86 Hz), which is what makes it cheap to train and fast to run on a CPU."""

from drumgrid.server.drum_codec.config import DrumCodecConfig
from drumgrid.server.drum_codec.model import DrumCodecModel

__all__ = ["DrumCodecConfig", "DrumCodecModel"]
