"""What a probe answer most likely means when the cause is the probe's own request (the Host
it sent, the path it asked for) rather than the application's health: the status line, then
the URL probed and the setting that changes it.

The status line stays first, because the supervisor reads the code at the start of STATUS.
"""

REDIRECTS = ("301", "302", "303", "307", "308")


def url(path, host):
    return "http://%s%s" % (host, path)


def _header(headers, name):
    for key, value in headers or ():
        if isinstance(key, bytes):
            key = key.decode("latin-1")
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        if str(key).lower() == name:
            return str(value)
    return None


def explain(status, path, host, headers=()):
    """``status`` with a hint for 400, 404, 421 and redirects; any other status unchanged."""
    code = status.split(" ", 1)[0]
    probed = "%s from GET %s" % (status, url(path, host))
    if code in ("400", "421"):
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return ("%s: Host %s rejected (Django ALLOWED_HOSTS?); set ROLLING_RESTART_STATUS_HOST"
                " to a host the application serves" % (probed, name))
    if code == "404":
        return "%s: no route at %s (set ROLLING_RESTART_STATUS_PATH or add one)" % (probed, path)
    location = _header(headers, "location") if code in REDIRECTS else None
    if location:
        return ("%s: redirected to %s; the status page must answer 2xx itself (set"
                " ROLLING_RESTART_STATUS_PATH, e.g. with a trailing slash, or exempt it from an"
                " HTTPS redirect)" % (probed, location))
    return status
