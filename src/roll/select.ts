/**
 * Which workers a run may plan with and which of them it selects. A worker in transition (starting,
 * exiting, still booting) is left out rather than signalled mid-way.
 */
import { DEFAULTS, formatMs } from '../config.js'
import type { Output } from '../output/logger.js'
import { sleep, type ProcInfo } from '../proc/procfs.js'
import { usage } from '../proc/usage.js'
import type { Resolved } from '../servers/resolve.js'
import { selectWorkers, type Selection, type SelectionCriteria } from './plan.js'

/** A worker left out of the run, and why. */
export type Skipped = Selection['skipped'][number]

/**
 * The workers to plan with: two looks at the master's workers (/proc), STABLE_GAP_MS apart. A
 * worker in only one of them (or a pid that is another process in the second) is starting or
 * exiting right now; it is left out of this run rather than signalled mid-transition.
 */
export async function stableWorkers(resolved: Resolved, out: Output): Promise<ProcInfo[]> {
  await settleBooting(resolved, out)
  return stableList(resolved, out)
}

/** Workers the adapter says must not be signalled yet (uWSGI: still booting), with why. */
export function bootingWorkers(resolved: Resolved, workers: ProcInfo[]): Skipped[] {
  const check = resolved.adapter.stillBooting
  if (!check) return []
  return workers.flatMap((w) => {
    const why = check(resolved.target, w)
    return why ? [{ pid: w.pid, why }] : []
  })
}

/** Wait, at most the default ready timeout, until no worker is booting (uWSGI: signalling one then stops another). */
async function settleBooting(resolved: Resolved, out: Output): Promise<void> {
  if (!resolved.adapter.stillBooting) return
  const deadline = Date.now() + DEFAULTS.readyTimeoutMs
  let booting = bootingWorkers(resolved, resolved.adapter.workers(resolved.target))
  if (booting.length === 0) return
  out.logger.info({ event: 'await-booting', workers: booting }, `waiting for ${booting.length} worker(s) to finish booting before planning`)
  while (booting.length && Date.now() < deadline) {
    await sleep(DEFAULTS.pollIntervalMs * 4)
    booting = bootingWorkers(resolved, resolved.adapter.workers(resolved.target))
  }
  for (const b of booting) {
    const line = `still booting after ${formatMs(DEFAULTS.readyTimeoutMs)}, so not signalled: ${b.why}`
    out.logger.warn({ event: 'still-booting', ...b }, line)
    out.progress(`warning: ${line}`)
  }
}

async function stableList(resolved: Resolved, out: Output): Promise<ProcInfo[]> {
  const first = resolved.adapter.workers(resolved.target)
  await sleep(STABLE_GAP_MS)
  const second = new Map(resolved.adapter.workers(resolved.target).map((w) => [w.pid, w.startTicks]))
  const stable = first.filter((w) => second.get(w.pid) === w.startTicks)
  const moving = [...first.filter((w) => !stable.includes(w)).map((w) => w.pid), ...[...second.keys()].filter((p) => !first.some((w) => w.pid === p))]
  if (moving.length) out.logger.info({ event: 'in-transition', pids: moving }, `left out ${moving.length} worker(s) that are starting or exiting right now`)
  return stable
}

/**
 * Between the two looks of stableWorkers. (They were /proc and ps(1), which read /proc too: its
 * 30 to 50 ms of start-up only made the gap longer.)
 */
const STABLE_GAP_MS = 10

/** The selection criteria (--older-than, --rss-above, --max-workers) applied, reading RSS only when asked for. */
export async function select(workers: ProcInfo[], criteria: SelectionCriteria): Promise<Selection> {
  const rss = criteria.rssAboveBytes !== undefined ? await usage(workers.map((w) => w.pid)) : new Map()
  return selectWorkers(
    workers.map((w) => ({ pid: w.pid, startedAt: w.startedAt, rssBytes: rss.get(w.pid)?.rssBytes })),
    criteria,
    Date.now(),
  )
}
