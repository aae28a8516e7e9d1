/**
 * Every group running on the host, for `status` without a target: one listing of /proc, each
 * adapter picks its masters from it (findAll) and resolves each the way `--master PID` would, so
 * what counts as a Gunicorn master, a uWSGI master, a Uvicorn supervisor or a mod_wsgi daemon
 * group is said once, in the adapter. A master that resolve refuses (uWSGI workers that cannot be
 * told from its helpers, a cut mod_wsgi title) is listed with the reason instead of dropped.
 */
import { SERVER_KINDS, type ServerKind } from '../config.js'
import { RollingRestartError } from '../errors.js'
import { allProcesses, type ProcInfo } from '../proc/procfs.js'
import { describeTargetFlags, loadAdapter } from './resolve.js'
import type { ServerAdapter, Target } from './types.js'

export interface FoundGroup {
  adapter: ServerAdapter
  target: Target
}

export interface UnlistedGroup {
  adapter: ServerAdapter
  masterPid: number
  /** the group's name when the scan knew it (mod_wsgi), else null */
  group: string | null
  /** why it cannot be shown as a group, and what to do */
  problem: string
}

export interface HostScan {
  found: FoundGroup[]
  unlisted: UnlistedGroup[]
}

/** The groups of `kinds` (default: every server) among `procs` (default: one listing of /proc now). */
export async function discoverAll(kinds: readonly ServerKind[] = SERVER_KINDS, procs: readonly ProcInfo[] = allProcesses()): Promise<HostScan> {
  const scan: HostScan = { found: [], unlisted: [] }
  for (const kind of kinds) {
    const adapter = await loadAdapter(kind)
    for (const opts of adapter.findAll?.(procs) ?? []) {
      const masterPid = opts.master as number
      const group = opts.group ?? null
      try {
        const target = adapter.resolve(opts)
        if (target) scan.found.push({ adapter, target })
        else scan.unlisted.push({ adapter, masterPid, group, problem: `${adapter.label} found by the scan, but ${describeTargetFlags(opts)} resolves to no group` })
      } catch (err) {
        if (!(err instanceof RollingRestartError)) throw err
        scan.unlisted.push({ adapter, masterPid, group, problem: err.message })
      }
    }
  }
  return scan
}
