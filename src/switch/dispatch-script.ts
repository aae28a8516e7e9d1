/**
 * The WSGIDispatchScript that routes each request to a daemon process group. Pure.
 *
 * mod_wsgi runs `process_group(environ)` in the Apache child (embedded interpreter) for every
 * request and dispatches to the group it returns; it reloads the script when its mtime changes
 * (with WSGIScriptReloading On where the request's script is configured). An exception or a
 * non-string return is a 500, so the generated code never raises: any error routes to the stable
 * group.
 *
 * The script carries its own settings on a `# rolling-restart-switch: {json}` line, so the next
 * switch can read what is live now even without the history file.
 */
import { UsageError } from '../errors.js'

export const CANARY_BY = ['random', 'remote-addr'] as const
export type CanaryBy = (typeof CANARY_BY)[number]

export interface RouteSpec {
  /** the group every request goes to, or the canary group when `canary` is set */
  to: string
  canary: null | {
    /** the group serving the requests that are not in the canary */
    stable: string
    /** 0 to 100: share of requests (or clients) sent to `to` */
    percent: number
    /** a cookie whose value, hashed, decides the bucket: the same value always lands in the same group */
    stickyCookie: string | null
    /** a request header that, with any value other than empty or `0`, sends the request to `to` */
    header: string | null
    /** for requests without the sticky cookie: per request at random, or by a hash of REMOTE_ADDR */
    by: CanaryBy
  }
}

const MARKER = '# rolling-restart-switch: '

/** RFC 7230 token characters that Apache keeps in the environment: letters, digits and `-`. */
const HEADER_NAME = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/
/** RFC 6265 cookie-name (a token). */
const COOKIE_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/

export function parseHeaderName(flag: string, value: string): string {
  if (!HEADER_NAME.test(value)) {
    throw new UsageError(
      `${flag} ${JSON.stringify(value)} is not a usable header name: use letters, digits and '-' (e.g. X-Canary); ` +
        'Apache leaves headers with other characters, such as _, out of the environment the dispatch script sees',
    )
  }
  return value
}

export function parseCookieName(flag: string, value: string): string {
  if (!COOKIE_NAME.test(value)) {
    throw new UsageError(`${flag} ${JSON.stringify(value)} is not a cookie name: use the name of the cookie as the browser sends it, e.g. sessionid`)
  }
  return value
}

export function parsePercent(flag: string, value: string): number {
  if (!/^\s*\d{1,3}\s*$/.test(value) || Number(value) > 100) {
    throw new UsageError(`${flag} ${JSON.stringify(value)} is not a percentage: use a whole number from 0 to 100, e.g. ${flag} 10`)
  }
  return Number(value)
}

/** `X-Canary` -> `HTTP_X_CANARY`, the key under which the WSGI environ carries it. */
export function environKey(header: string): string {
  return 'HTTP_' + header.toUpperCase().replace(/-/g, '_')
}

/** A Python string literal (the values are validated ASCII, so JSON's escaping is Python's too). */
const py = (s: string | null): string => (s === null ? 'None' : JSON.stringify(s))

export function renderDispatchScript(spec: RouteSpec, at: Date = new Date()): string {
  const head = [
    `# Written by \`rolling-restart switch\` at ${at.toISOString()}. Replaced whole (rename) on every switch:`,
    '# change the routing with the command, not by editing this file.',
    '# Apache: WSGIDispatchScript <this file>; mod_wsgi reloads it when its mtime changes, which needs',
    '# WSGIScriptReloading On (the default) for the URLs it routes.',
    MARKER + JSON.stringify(spec),
  ]
  if (spec.canary === null) {
    return [
      ...head,
      '',
      `GROUP = ${py(spec.to)}`,
      '',
      '',
      'def process_group(environ):',
      '    return GROUP',
      '',
    ].join('\n')
  }
  const c = spec.canary
  return [
    ...head,
    '',
    'import hashlib',
    'import random',
    '',
    `CANARY_GROUP = ${py(spec.to)}`,
    `STABLE_GROUP = ${py(c.stable)}`,
    `CANARY_PERCENT = ${c.percent}`,
    `STICKY_COOKIE = ${py(c.stickyCookie)}`,
    `CANARY_HEADER = ${py(c.header === null ? null : environKey(c.header))}  # ${c.header === null ? 'none' : c.header}`,
    `BY_REMOTE_ADDR = ${c.by === 'remote-addr' ? 'True' : 'False'}`,
    '',
    '',
    'def _bucket(text):',
    '    """0..99, the same for the same text; salted with the canary group so each rollout picks its own clients."""',
    '    digest = hashlib.sha256((CANARY_GROUP + "|" + text).encode("utf-8", "replace")).hexdigest()',
    '    return int(digest[:8], 16) % 100',
    '',
    '',
    'def _cookie(environ, name):',
    '    for part in environ.get("HTTP_COOKIE", "").split(";"):',
    '        key, sep, value = part.strip().partition("=")',
    '        if sep and key.strip() == name:',
    '            return value.strip().strip(\'"\')',
    '    return None',
    '',
    '',
    'def _in_canary(environ):',
    '    if CANARY_HEADER is not None and environ.get(CANARY_HEADER, "").strip() not in ("", "0"):',
    '        return True',
    '    if CANARY_PERCENT <= 0:',
    '        return False',
    '    if CANARY_PERCENT >= 100:',
    '        return True',
    '    if STICKY_COOKIE is not None:',
    '        value = _cookie(environ, STICKY_COOKIE)',
    '        if value:',
    '            return _bucket(value) < CANARY_PERCENT',
    '    if BY_REMOTE_ADDR:',
    '        return _bucket(environ.get("REMOTE_ADDR", "")) < CANARY_PERCENT',
    '    return random.random() * 100 < CANARY_PERCENT',
    '',
    '',
    'def process_group(environ):',
    '    try:',
    '        return CANARY_GROUP if _in_canary(environ) else STABLE_GROUP',
    '    except Exception:  # a raise here would be a 500 for the request',
    '        return STABLE_GROUP',
    '',
  ].join('\n')
}

/** The settings a generated script was written with, or null for a file we did not write. */
export function parseDispatchScript(text: string): RouteSpec | null {
  for (const line of text.split('\n')) {
    if (!line.startsWith(MARKER)) continue
    try {
      const spec = JSON.parse(line.slice(MARKER.length)) as RouteSpec
      if (typeof spec.to === 'string' && (spec.canary === null || typeof spec.canary?.stable === 'string')) return spec
    } catch {
      return null
    }
  }
  return null
}
