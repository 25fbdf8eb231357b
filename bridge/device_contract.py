"""The Max device's copy of the render contract: the Max patcher and its [js] cannot import
Python, so `python -m drumgrid.bridge.device_contract > max_for_live/contract.json` writes
what they must agree on, and `node max_for_live/build.js` copies that into drumgrid.js and
drumgrid.maxpat. tests/test_bridge.py fails when contract.json is stale, the device's node
tests when drumgrid.js or the patcher is."""

from __future__ import annotations

import json

from drumgrid.bridge.contract import (
    DECODING_METHODS,
    DEFAULT_HOST,
    DEFAULT_UDP_PORT,
    DEVICE_REPLY_PORTS,
    MAX_NAME,
    MAX_PROMPT_NOTES,
    MAX_VARIATIONS,
)
from drumgrid.bridge.protocol import MAX_DATAGRAM, PREFIX


def device_contract() -> dict[str, object]:
    """What the device must agree on with the daemon, as contract.json holds it."""
    return {
        "daemon_host": DEFAULT_HOST,
        "daemon_udp_port": DEFAULT_UDP_PORT,
        "reply_port_first": DEVICE_REPLY_PORTS.start,
        "reply_port_last": DEVICE_REPLY_PORTS.stop - 1,
        "max_datagram": MAX_DATAGRAM,
        "prefix": PREFIX,
        "decoding": list(DECODING_METHODS),
        "max_takes": MAX_VARIATIONS,
        "max_name": MAX_NAME,
        "max_prompt_notes": MAX_PROMPT_NOTES,
    }


def device_contract_json() -> str:
    return json.dumps(device_contract(), indent=2) + "\n"


if __name__ == "__main__":
    print(device_contract_json(), end="")
