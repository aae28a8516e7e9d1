/**
 * What a deploy or rollback refuses before it touches anything: no release to roll back to, or a
 * server whose restarted workers would not load the new release.
 */
import { existsSync } from 'node:fs'
import { RefusedError, UsageError } from '../errors.js'
import { previousRelease } from '../release/history.js'
import { listReleases, releaseDir, type ReleaseLayout } from '../release/layout.js'
import type { Resolved } from '../servers/resolve.js'
import type { ReleaseHistoryEntry } from '../state/state-file.js'

/**
 * The release before the live one, from the history. Without a history there is no telling which
 * directory was live before (directory times are not reliable: cp -a and rsync -a keep the
 * source's), so the operator names it with deploy --release.
 */
export function rollbackTarget(layout: ReleaseLayout, history: readonly ReleaseHistoryEntry[], live: string | null): string {
  const previous = previousRelease(history, live, (n) => existsSync(releaseDir(layout, n)))
  if (previous) return previous
  const others = listReleases(layout)
    .map((r) => r.name)
    .filter((n) => n !== live)
  throw new UsageError(
    `rollback: the release history of this group names no release before ${live ?? 'the live one'} that still exists in ${layout.releases}. ` +
      `Go back by name: rolling-restart deploy --root ${layout.root} --release NAME` +
      (others.length ? ` (present: ${others.slice(-8).join(', ')})` : ''),
  )
}

/** preload_app or a chdir that does not follow `current`: every worker would load old code. Refuse up front. */
export function refuseOldCodeHazards(resolved: Resolved, layout: ReleaseLayout, name: string): void {
  const hazards = (resolved.adapter.hazards?.(resolved.target, { releaseRoot: layout.root, forRun: true }) ?? []).filter(
    (h) => h.severity === 'error' && (h.id === 'preload-app' || h.id === 'stale-cwd'),
  )
  if (hazards.length === 0) return
  throw new RefusedError(
    `refusing to deploy ${name}: restarted workers of ${resolved.target.description} would not load it. ` +
      hazards.map((h) => `[${h.id}] ${h.message}. Fix: ${h.fix}`).join(' ') +
      ` Nothing was touched; ${layout.current} was not changed`,
    'old-code',
  )
}
