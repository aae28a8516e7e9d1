/**
 * Does a new worker run the release it should? The check the roller applies to every readiness
 * datagram: --expect-release on a restart, the deployed release on a deploy or rollback.
 */
import { realpathSync } from 'node:fs'
import type { Readiness } from '../readiness/protocol.js'
import { isWithin, releaseDir, type ReleaseLayout } from '../release/layout.js'
import type { Hazard } from '../servers/types.js'

/** null when the worker passes, else why it does not. */
export type ReleaseCheck = (r: Readiness) => string | null

/**
 * --expect-release: the new worker's RELEASE must be this. With preload_app on, a RELEASE that
 * matches proves nothing: the hook reads the REVISION file when it reports, while the worker runs
 * the code its master imported at start. Such a step fails, naming the cause.
 */
export function releaseCheck(expected: string, hazards: readonly Hazard[] = []): ReleaseCheck {
  const preload = hazards.find((h) => h.id === 'preload-app' && h.severity === 'error')
  return (r: Readiness): string | null => {
    const root = r.root ? ` (ROOT=${r.root})` : ''
    if (r.release === expected) {
      return preload
        ? `reported RELEASE=${r.release}${root}, but that is what is on disk, not what it runs: it is a fork of a master that preloaded the app (preload_app), so it runs the code the master loaded when it started`
        : null
    }
    return r.release === null
      ? `reported no RELEASE${root}, expected ${JSON.stringify(expected)} (set ROLLING_RESTART_RELEASE or ship a REVISION file with the app)`
      : `reported RELEASE=${r.release}${root}, expected ${expected}`
  }
}

/**
 * A worker runs release NAME when its ROOT is inside releases/NAME, or, when ROOT says nothing
 * about the layout, its RELEASE is NAME. A ROOT inside another release is old code, whatever its
 * RELEASE says. With --expect-release, RELEASE must also equal it.
 */
export function releaseMatch(layout: ReleaseLayout, name: string, expectRelease: string | null): ReleaseCheck {
  const real = (p: string) => {
    try {
      return realpathSync(p)
    } catch {
      return p
    }
  }
  const dir = real(releaseDir(layout, name))
  const releases = real(layout.releases)
  const explicit = expectRelease !== null ? releaseCheck(expectRelease) : null
  return (r: Readiness) => {
    const why = explicit?.(r)
    if (why) return why
    if (r.root && isWithin(r.root, dir)) return null
    if (r.root && isWithin(r.root, releases)) {
      return `runs the code in ${r.root} (RELEASE=${r.release ?? 'none'}), not release ${name} (${dir})`
    }
    if (r.release === name || explicit) return null
    return `reported RELEASE=${r.release ?? '(none)'}${r.root ? ` and ROOT=${r.root}` : ''}, expected release ${name} (RELEASE=${name}, or ROOT inside ${dir})`
  }
}
