"""The OSC protocol between drumgrid's daemon and its clients (addresses, schemas and
validation in protocol.py and messages/, TCP/UDP framing in framing.py), the render contract
every layer shares (contract.py: options, limits, ports, take names) and a Python client. The
bottom layer: it imports nothing from drumgrid.server or drumgrid.training."""

from drumgrid.bridge.client import Client, DaemonStatus, Done, RenderError, new_job_id
from drumgrid.bridge.framing import Deframer, FramingError, frame
from drumgrid.bridge.protocol import ERROR_CODES, MAX_DATAGRAM, ProtocolError

__all__ = [
    "ERROR_CODES",
    "MAX_DATAGRAM",
    "Client",
    "DaemonStatus",
    "Deframer",
    "Done",
    "FramingError",
    "ProtocolError",
    "RenderError",
    "frame",
    "new_job_id",
]
