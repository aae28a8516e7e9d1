"""The readiness datagram: KEY=VALUE lines in a fixed order, at most 2048 bytes, with an
optional HMAC-SHA256 last line; and the one UDP send that delivers it.

The format is specified in docs/protocol.md of the rolling-restart tree.
"""

import hashlib
import hmac
import re
import socket

MAX_DATAGRAM_BYTES = 2048
FIELD_ORDER = ("READY", "PID", "PPID", "GROUP", "STATUS", "RELEASE", "ROOT", "PRELOAD", "APP", "BOOT_MS", "HOOK")

_MAC_LINE_BYTES = len(b"\nMAC=") + 64
# STATUS keeps at least this many bytes while RELEASE is being shortened, so the
# status code (which the supervisor reads) survives truncation.
_STATUS_KEEP_BYTES = 32
_CONTROL = re.compile(u"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def sanitize(value):
    """``value`` as one line of text the supervisor accepts: control characters become
    spaces, undecodable bytes and lone surrogates become ``?``."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    elif not isinstance(value, str):
        value = str(value)
    value = _CONTROL.sub(" ", value).strip()
    # Lone surrogates (undecodable file names) cannot be UTF-8 encoded: replace them.
    value = value.encode("utf-8", "replace").decode("utf-8")
    # The supervisor reads U+FFFD as a sign of invalid UTF-8 and drops the datagram,
    # so text that was decoded with errors="replace" must not carry it.
    return value.replace(u"\ufffd", "?")


def _truncate(value, max_bytes):
    if max_bytes <= 0:
        return ""
    return value.encode("utf-8")[:max_bytes].decode("utf-8", "ignore")


def _render(values):
    return "\n".join(k + "=" + values[k] for k in FIELD_ORDER if k in values).encode("utf-8")


def build_datagram(fields, secret=None):
    """Render ``fields`` as the readiness datagram (bytes).

    Lines come in FIELD_ORDER, joined by ``\\n`` with no trailing newline; fields
    that are absent or None are left out and unknown keys are ignored. Control
    characters become spaces. STATUS and then RELEASE are shortened so the
    datagram fits in 2048 bytes. With ``secret`` (bytes or str), a last line
    ``MAC=<hex>`` carries HMAC-SHA256 of every byte before ``MAC=``.
    """
    values = {}
    for key in FIELD_ORDER:
        if fields.get(key) is not None:
            values[key] = sanitize(fields[key])
    for key in ("READY", "PID"):
        if not values.get(key):
            raise ValueError("the datagram needs %s" % key)
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    budget = MAX_DATAGRAM_BYTES - (_MAC_LINE_BYTES if secret else 0)

    # Shorten STATUS (keeping its first 32 bytes, where the code is), then RELEASE.
    # Only a pathological ROOT or GROUP (paths of kilobytes) can still overflow:
    # those optional lines are then left out rather than sent wrong.
    for key, floor in (("STATUS", _STATUS_KEEP_BYTES), ("RELEASE", 0)):
        excess = len(_render(values)) - budget
        if excess <= 0:
            break
        if key in values:
            size = len(values[key].encode("utf-8"))
            values[key] = _truncate(values[key], max(floor, size - excess))
    if values.get("RELEASE") == "":
        del values["RELEASE"]
    for key in ("ROOT", "GROUP"):
        if len(_render(values)) <= budget:
            break
        values.pop(key, None)

    body = _render(values)
    if secret:
        body += b"\n"
        return body + b"MAC=" + hmac.new(secret, body, hashlib.sha256).hexdigest().encode("ascii")
    return body


def send_datagram(address, data, timeout=1.0):
    """Send ``data`` to (host, port) over UDP, choosing IPv4/IPv6 from the address."""
    host, port = address
    infos = socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM)
    family, _, _, _, sockaddr = infos[0]
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.settimeout(timeout)
        sock.sendto(data, sockaddr)
    finally:
        sock.close()
