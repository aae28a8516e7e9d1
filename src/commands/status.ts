/**
 * `rolling-restart status`: a group's mode, master, memory, listen addresses and workers, like
 * passenger-status; without a target, every group running on the host and every group the state
 * directory knows. Reads only: it takes no lock, so it works while a run is in progress.
 * What it gathers: status/group-status.ts; the listing: status/host-listing.ts; the text:
 * status/render.ts; --watch: status/watch.ts.
 */
import type { Command } from 'commander'
import { DEFAULTS } from '../config.js'
import { EXIT, type ExitCode } from '../errors.js'
import { describeTargetFlags, resolveTarget } from '../servers/resolve.js'
import { groupStatus } from '../status/group-status.js'
import { hostListing, type HostListing } from '../status/host-listing.js'
import { renderListing, renderStatus } from '../status/render.js'
import type { StatusReport } from '../status/types.js'
import { watch, watchInterval, type WatchFlags } from '../status/watch.js'
import { addTargetOptions, printJson, stateDir, targetOptions, type RawTargetFlags } from './common.js'

export { formatUptime, renderStatus } from '../status/render.js'
export { modeOf, roleOf } from '../status/mode.js'
export type { StatusReport, StatusWorker, WorkerRole } from '../status/types.js'

export interface StatusFlags extends RawTargetFlags, WatchFlags {}

export function addStatusOptions(cmd: Command): Command {
  return addTargetOptions(cmd)
    .option('--json', 'print the status as JSON')
    .option('--watch [interval]', `redraw every interval on a terminal until Ctrl-C (default ${DEFAULTS.statusWatchMs / 1000}s; a bare number is seconds)`)
}

const hasTarget = (f: StatusFlags): boolean => f.group !== undefined || f.pidfile !== undefined || f.master !== undefined || f.apachePidfile !== undefined

type Gathered = { report: StatusReport } | { listing: HostListing }

/** The status of the target, or (without one) of every group on the host and in the state directory. */
async function gather(flags: StatusFlags): Promise<Gathered> {
  const dir = stateDir(flags)
  const opts = targetOptions(flags)
  if (!hasTarget(flags)) return { listing: await hostListing(dir, opts.server) }
  const { adapter, target } = await resolveTarget(opts)
  return { report: await groupStatus(adapter, target, dir, describeTargetFlags(opts)) }
}

const asText = (g: Gathered): string => ('report' in g ? renderStatus(g.report) : renderListing(g.listing))

export async function statusCommand(flags: StatusFlags, interrupt: AbortSignal = new AbortController().signal): Promise<ExitCode> {
  const interval = watchInterval(flags, process.stdout.isTTY === true)
  if (interval !== null) {
    await watch(async () => asText(await gather(flags)), interval, interrupt)
    process.stdout.write('\n')
    return EXIT.OK
  }
  const g = await gather(flags)
  if (flags.json) printJson('report' in g ? g.report : g.listing)
  else process.stdout.write(asText(g))
  return EXIT.OK
}
