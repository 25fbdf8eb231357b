"""The OSC addresses of the protocol, grouped by how the daemon answers them, and the codes
an error reply carries."""

from __future__ import annotations

PREFIX = "/drumgrid"
# requests
PING = f"{PREFIX}/ping"
SUBSCRIBE = f"{PREFIX}/subscribe"
RENDER = f"{PREFIX}/render"
CLIP_BEGIN = f"{PREFIX}/clip/begin"
CLIP_NOTES = f"{PREFIX}/clip/notes"
CLIP_END = f"{PREFIX}/clip/end"
CANCEL = f"{PREFIX}/cancel"
STATUS = f"{PREFIX}/status"  # also the reply's address
KITS = f"{PREFIX}/kits"  # also the reply's address
# replies
PONG = f"{PREFIX}/pong"
SUBSCRIBED = f"{PREFIX}/subscribed"
ACCEPTED = f"{PREFIX}/accepted"
PROGRESS = f"{PREFIX}/progress"
DONE = f"{PREFIX}/done"
ERROR = f"{PREFIX}/error"
NOTICE = f"{PREFIX}/notice"  # what a job took from its input: drum parts, warnings, folds

JOB_ADDRESSES = (RENDER, CLIP_BEGIN, CLIP_NOTES, CLIP_END, CANCEL)
QUERY_ADDRESSES = (PING, STATUS, KITS)  # answered at once; an optional <reply_port:i>
REQUEST_ADDRESSES = (*QUERY_ADDRESSES, SUBSCRIBE, RENDER, CLIP_BEGIN, CLIP_NOTES, CLIP_END, CANCEL)
JOB_REPLY_ADDRESSES = (ACCEPTED, PROGRESS, DONE, ERROR, NOTICE)  # their first argument: the job

ERROR_CODES = (
    "bad_request",
    "bad_midi",
    "unknown_kit",
    "too_long",
    "busy",
    "cancelled",
    "internal",
)
