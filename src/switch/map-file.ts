/**
 * The RewriteMap text file that names the live daemon process group. Pure.
 *
 *   RewriteMap wsgigroup txt:/etc/apache2/wsgi-live.txt
 *   RewriteRule ^/ - [E=WSGI_GROUP:${wsgigroup:current|app:maintenance}]
 *   WSGIProcessGroup %{ENV:WSGI_GROUP}
 *
 * mod_rewrite reads a txt map as `key value` lines, `#` starting a comment; it stats the file on
 * every lookup and drops its per-process cache when the mtime changed (modules/mappers/
 * mod_rewrite.c, lookup_map), so a renamed-in file takes effect at the next request.
 */
import { UsageError } from '../errors.js'

export const MAP_KEY = 'current'

/**
 * What a group name may hold. It goes into a map line (no white space), a Python string literal
 * and mod_wsgi's process-group lookup (which expands a leading `%`), so: letters, digits and
 * `_ . : @ + -`, starting with a letter or digit. Every WSGIDaemonProcess name in the mod_wsgi
 * docs fits (`app:blue`, `app:maintenance`, `bob:1`).
 */
const GROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:@+-]{0,127}$/

export function parseGroupName(flag: string, value: string): string {
  if (!GROUP_NAME.test(value)) {
    throw new UsageError(
      `${flag} ${JSON.stringify(value)} is not a daemon process group name: use the name given to WSGIDaemonProcess, ` +
        'letters, digits and _ . : @ + - only, e.g. app:blue',
    )
  }
  return value
}

export function renderMapFile(group: string, at: Date = new Date()): string {
  return [
    `# written by \`rolling-restart switch\` at ${at.toISOString()}; replaced whole on every switch (do not edit in place)`,
    `${MAP_KEY} ${group}`,
    '',
  ].join('\n')
}

/** The group on the `current` line, as mod_rewrite would find it (first matching key wins), or null. */
export function parseMapFile(text: string): string | null {
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const [key, value] = line.split(/\s+/)
    if (key === MAP_KEY && value) return value
  }
  return null
}
