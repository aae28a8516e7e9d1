/**
 * mod_wsgi's daemon process titles. With display-name=%{GROUP}, mod_wsgi (src/server/mod_wsgi.c,
 * wsgi_setup_daemon_name) overwrites argv[0] with `(wsgi:NAME)`, padded with spaces or cut to the
 * length of Apache's original argv[0] (17 characters for /usr/sbin/apache2:
 * `(wsgi:app:blue-long-name)` shows as `(wsgi:app:blue-lo`); /proc/PID/comm stays `apache2`.
 */
import type { ProcInfo } from '../../proc/procfs.js'

export const TITLE_START = '(wsgi:'

/** The title mod_wsgi gives a daemon process of `group` under an Apache whose argv[0] has `room` characters. */
export function daemonTitle(group: string, room: number): string {
  const full = `${TITLE_START}${group})`
  return full.length > room ? full.slice(0, room) : full
}

export function isTruncated(group: string, room: number): boolean {
  return `${TITLE_START}${group})`.length > room
}

/** The group name in an uncut title, or null when the title was cut (or is not mod_wsgi's). */
export function groupOfTitle(title: string): string | null {
  const m = /^\(wsgi:(.*)\)$/.exec(title.trimEnd())
  return m ? (m[1] as string) : null
}

export const argv0 = (p: ProcInfo): string => p.argv[0] ?? ''
export const shownTitle = (p: ProcInfo): string => argv0(p).trimEnd()

/** A mod_wsgi daemon process with a display name: a child of Apache titled `(wsgi:...`. */
export function isTitledDaemon(p: ProcInfo): boolean {
  return argv0(p).startsWith(TITLE_START)
}
