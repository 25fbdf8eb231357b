"""Training the grid-to-tokens Transformer: windows over a token cache, SoundStorm masking,
the trainer."""
