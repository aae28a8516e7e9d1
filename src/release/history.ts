/**
 * The release history kept in the group's state file: one entry each time a deploy or a rollback
 * made a release live (`{release, at, action}`), oldest first, plus a `found` entry for the release
 * a deploy found live when the history did not know it (the first deploy). Failed deploys that were
 * rolled back are not entries: the release they tried never stayed live.
 *
 * Which release "rollback" goes back to is derived by replaying the entries as a stack: a deploy
 * (or a `found`) pushes its release, a rollback pops the live one. So deploy A, deploy B, deploy C,
 * rollback, rollback leaves A live, and a third rollback has nowhere to go.
 */
import type { ReleaseHistoryEntry } from '../state/state-file.js'

/** Keep this many entries; older ones are dropped. */
export const HISTORY_LIMIT = 100

export function releaseStack(history: readonly ReleaseHistoryEntry[]): string[] {
  const stack: string[] = []
  for (const e of history) {
    if (e.action === 'rollback') {
      // a rollback to X: drop everything above the last X (or just the top, when X is not there)
      const at = stack.lastIndexOf(e.release)
      if (at >= 0) stack.length = at + 1
      else {
        stack.pop()
        stack.push(e.release)
      }
    } else if (stack[stack.length - 1] !== e.release) {
      stack.push(e.release)
    }
  }
  return stack
}

/**
 * The release to go back to from `live`: the newest one below it in the stack that still exists
 * on disk. When the history does not know `live` (someone moved `current` by hand), the top of the
 * stack that is not live.
 */
export function previousRelease(history: readonly ReleaseHistoryEntry[], live: string | null, exists: (name: string) => boolean): string | null {
  const stack = releaseStack(history)
  let i = stack.length - 1
  if (live !== null && stack[i] === live) i--
  for (; i >= 0; i--) {
    const name = stack[i] as string
    if (name !== live && exists(name)) return name
  }
  return null
}

export function appendHistory(history: readonly ReleaseHistoryEntry[], entry: ReleaseHistoryEntry): ReleaseHistoryEntry[] {
  return [...history, entry].slice(-HISTORY_LIMIT)
}

/** When each release was last made live (ms), for pruning: most recent first wins. */
export function lastLive(history: readonly ReleaseHistoryEntry[]): Map<string, number> {
  const out = new Map<string, number>()
  history.forEach((e, i) => {
    const t = Date.parse(e.at)
    // entries are in order even if clocks jump: keep the order by adding the index as a tie-breaker
    out.set(e.release, (Number.isNaN(t) ? 0 : t) + i / 1000)
  })
  return out
}
