/**
 * The switch history: a small JSON file next to the routing file (`FILE.history.json`), newest
 * entry last. `switch --back` re-applies the entry before the newest one and appends it again, so
 * two `--back`s in a row toggle between the last two targets, like `cd -`.
 */
import { readFileSync } from 'node:fs'
import { UsageError, errnoCode } from '../errors.js'
import { writeFileAtomic } from '../fs/atomic-write.js'
import type { RouteSpec } from './dispatch-script.js'

export type Mechanism = 'map' | 'dispatch'

export interface SwitchEntry {
  at: string
  /** what the file routes to after this switch */
  route: RouteSpec
  /** the group that was live before (null: unknown, e.g. the first switch) */
  from: string | null
  /** `switch --back` wrote this entry */
  back: boolean
  /** the readiness checks were overridden */
  forced: boolean
  /** the pid and user that switched, for the audit trail (null for a seeded entry) */
  pid: number | null
  user: string | null
  /** not a switch: what the file already routed to before the first switch this history saw */
  seeded?: boolean
}

export interface SwitchHistory {
  version: 1
  mechanism: Mechanism
  /** the routing file this history belongs to */
  file: string
  entries: SwitchEntry[]
}

export const HISTORY_KEEP = 50

export function historyPathFor(file: string): string {
  return `${file}.history.json`
}

export function readHistory(path: string, flag: string): SwitchHistory | null {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return null
    throw new UsageError(`${flag}: cannot read the switch history ${path} (${errnoCode(err)})`)
  }
  let data: Partial<SwitchHistory>
  try {
    data = JSON.parse(text) as Partial<SwitchHistory>
  } catch {
    throw new UsageError(`the switch history ${path} is not valid JSON: move it aside (the next switch starts a new one)`, 'history-corrupt')
  }
  if (data.version !== 1 || !Array.isArray(data.entries)) {
    throw new UsageError(`the switch history ${path} has an unknown format: move it aside`, 'history-corrupt')
  }
  return data as SwitchHistory
}

/**
 * Append `entry`. When the history is empty but the file already routed somewhere (written by hand
 * or before this history existed), that route is recorded first, so `--back` after the very first
 * switch returns to it.
 */
export function appendEntry(
  h: SwitchHistory | null,
  base: { mechanism: Mechanism; file: string; live?: RouteSpec | null; liveSince?: string },
  entry: SwitchEntry,
): SwitchHistory {
  const prior = h?.entries ?? []
  const seed: SwitchEntry[] =
    prior.length === 0 && base.live
      ? [{ at: base.liveSince ?? entry.at, route: base.live, from: null, back: false, forced: false, pid: null, user: null, seeded: true }]
      : []
  const entries = [...prior, ...seed, entry].slice(-HISTORY_KEEP)
  return { version: 1, mechanism: base.mechanism, file: base.file, entries }
}

export function writeHistory(path: string, h: SwitchHistory): void {
  writeFileAtomic(path, JSON.stringify(h, null, 2) + '\n')
}

/** The entry `--back` returns to: the one before the newest. */
export function previousEntry(h: SwitchHistory | null): SwitchEntry | null {
  if (!h || h.entries.length < 2) return null
  return h.entries[h.entries.length - 2] ?? null
}

/** One line for messages: `app:green`, or `app:green for 10% (rest app:blue)`. */
export function describeRoute(r: RouteSpec): string {
  if (!r.canary) return r.to
  const extras = [
    r.canary.stickyCookie ? `sticky by cookie ${r.canary.stickyCookie}` : null,
    r.canary.header ? `header ${r.canary.header} forces it` : null,
  ].filter(Boolean)
  return `${r.to} for ${r.canary.percent}% (rest ${r.canary.stable}${extras.length ? '; ' + extras.join(', ') : ''})`
}

/** The group most traffic goes to: the canary target only at 100%. */
export function primaryGroup(r: RouteSpec): string {
  if (!r.canary) return r.to
  return r.canary.percent >= 100 ? r.to : r.canary.stable
}
