/**
 * Defaults of the HAProxy drain around a roll (--haproxy-socket, --haproxy-server). Kept beside the
 * client so the drain stays one additive piece; config.ts may take them over when the flags land.
 */
export const HAPROXY_DEFAULTS = {
  /** how long one runtime API command may take to be answered before HAProxy counts as not answering */
  commandTimeoutMs: 5_000,
  /** how long a drained server may keep current sessions before the roll goes ahead anyway */
  drainTimeoutMs: 60_000,
  /** how often the current sessions (scur) of a draining server are read */
  pollIntervalMs: 250,
} as const
