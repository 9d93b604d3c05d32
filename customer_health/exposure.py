"""Whether a listening address is reachable from other machines, and the warning when it is."""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket

log = logging.getLogger("customer_health.exposure")


def is_loopback(host: str) -> bool:
    """True when ``host`` names only this machine's loopback interface ("", 0.0.0.0 and :: are every
    interface); a host name counts as loopback when every address it resolves to is one."""
    host = host.strip().strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    if not host:
        return False
    with contextlib.suppress(OSError, UnicodeError):
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
        return bool(addresses) and all(ipaddress.ip_address(str(a).split("%")[0]).is_loopback for a in addresses)
    return False


def warn_if_exposed(what: str, host: str, port: int, risk: str) -> bool:
    """Log a warning when ``what`` listens beyond loopback; returns whether it does."""
    if is_loopback(host):
        return False
    log.warning("%s listens on %s:%d, reachable from other machines: %s", what, host, port, risk)
    return True
