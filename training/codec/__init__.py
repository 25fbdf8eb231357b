"""Training drumgrid's drum codec: data, losses, discriminator and the training loop."""
