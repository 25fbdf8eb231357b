"""The parts of the OSC protocol, one module per job; code imports them through
drumgrid.bridge.protocol."""
