"""Network facts shared by the server and the web chat, without importing either's HTTP stack."""

from __future__ import annotations

import ipaddress


def es_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address, IPv6 in brackets or not) is this machine's loopback."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
