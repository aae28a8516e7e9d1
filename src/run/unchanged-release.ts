/**
 * A restart's preflight is not needed when the running workers vouch for the code on disk
 * (preflight/unchanged.ts): each passed its probe with files that are all still what is on disk.
 * Not with --preflight-always, nor when --preflight-app or --preflight-python name something to
 * check that the workers may not have loaded. A deploy always runs it: its release is new.
 */
import { statIdentity } from '../fs/stat-identity.js'
import { loadedRecordOf, parseLoadedFiles } from '../proc/loaded-record.js'
import { vouchForRelease } from '../preflight/unchanged.js'
import type { LockedRun } from './group-run.js'

/** Why the preflight is not needed (logged), or null when it must run (why is logged too). */
export function preflightNotNeeded(run: Pick<LockedRun, 'plan' | 'out'> & { workers: ReadonlyArray<{ pid: number }> }): string | null {
  const opts = run.plan.preflight
  if (opts === null || opts.always === true || opts.app !== undefined || opts.python !== undefined) return null
  const v = vouchForRelease(
    run.workers.map((w) => w.pid),
    loadedRecordOf,
    parseLoadedFiles,
    statIdentity,
  )
  if (!v.vouched) {
    run.out.logger.info({ event: 'preflight-needed', why: v.why }, `preflight needed: ${v.why}`)
    return null
  }
  const why =
    `preflight not needed: the ${v.workers} running workers passed their probe with the code on disk now ` +
    `(${v.files} files and ${v.dirs} directories unchanged since they loaded them); --preflight-always runs it anyway`
  run.out.logger.info({ event: 'preflight-skipped', workers: v.workers, files: v.files, dirs: v.dirs }, why)
  return why
}
