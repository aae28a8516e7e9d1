/**
 * The checks every run makes before it touches a worker: the target resolves and suits the
 * strategy (and, for a surge, the chosen workers' keep-alive drain), one run per group (the lock),
 * the group is not in error-resistance mode, and we may signal what we are about to signal.
 */
import { resolve as resolvePath } from 'node:path'
import { RefusedError, TargetError, UsageError } from '../errors.js'
import type { Output } from '../output/logger.js'
import { signal, type ProcInfo } from '../proc/procfs.js'
import { ReadinessListener } from '../readiness/listener.js'
import { describeTargetFlags, resolveTarget, type Resolved } from '../servers/resolve.js'
import type { Target } from '../servers/types.js'
import { acquireLock, type Lock } from '../state/lock.js'
import { stateKey, type GroupState } from '../state/state-file.js'
import { targetOptions } from '../commands/common.js'
import type { RestartFlags, RestartPlan } from './flags.js'
import { whySurgeRefused } from './replace-via.js'

/** Resolve the target (with --server-config) and check the strategy fits the server. */
export async function resolveForRun(flags: RestartFlags, plan: Pick<RestartPlan, 'strategy'>, out: Output): Promise<Resolved> {
  const resolved = await resolveTarget({ ...targetOptions(flags), configFile: flags.serverConfig !== undefined ? resolvePath(flags.serverConfig) : undefined })
  const { adapter, target } = resolved
  out.logger.info({ event: 'resolved', server: target.server, group: target.group, masterPid: target.masterPid, via: target.via }, resolved.picked)
  if (flags.server === 'auto' || flags.server === undefined) out.progress(resolved.picked)
  if (plan.strategy === 'surge' && !adapter.canSurge) {
    throw new UsageError(
      `--strategy surge needs a server that can run one extra worker on request; ${adapter.label} cannot ` +
        `(${adapter.noSurgeReason ?? 'its process count is fixed by its configuration'}). Use --strategy replace`,
    )
  }
  return resolved
}

/** Take the group's lock (one run per group), saying so when it was left by a dead run. */
export async function lockGroup(dir: string, target: Target, out: Output): Promise<{ key: string; lock: Lock }> {
  const key = stateKey(target.server, target.group)
  const lock = await acquireLock(dir, key, target.group)
  if (lock.recoveredFrom) {
    out.logger.warn({ event: 'lock-recovered', holder: lock.recoveredFrom }, `recovered the lock left by a dead run (pid ${lock.recoveredFrom.pid})`)
  }
  return { key, lock }
}

export function refuseInErrorResistance(prior: GroupState | null, flags: RestartFlags, group: string): void {
  if (prior?.errorResistance && !flags.force) {
    const er = prior.errorResistance
    throw new RefusedError(
      `group '${group}' is in error-resistance mode since ${er.at}: ${er.message}\n` +
        `Nothing was touched. Fix the cause, then run \`rolling-restart resume ${describeTargetFlags(targetOptions(flags))}\` (or pass --force to roll anyway)`,
      'error-resistance',
    )
  }
}

export function checkPermission(pid: number, what: string): void {
  if (signal(pid, 0) === 'denied') {
    throw new TargetError(`not permitted to signal ${what} (pid ${pid}): run rolling-restart as the server's user or as root`, 'denied')
  }
}

export function openListener(plan: RestartPlan, out: Output): Promise<ReadinessListener> {
  return ReadinessListener.open(plan.notify, { secret: plan.secret, acceptBareOk: plan.acceptBareOk }, (r) =>
    out.event({ event: 'datagram-ignored', from: r.from, reason: r.reason, detail: r.detail }),
  )
}

/** A surge whose TTOUs would cut the chosen workers' keep-alive drain (replace-via.ts): exit 2, nothing touched. */
export function refuseSurgeCuttingDrain(plan: Pick<RestartPlan, 'strategy'>, resolved: Resolved, selected: readonly ProcInfo[]): void {
  const why = whySurgeRefused(plan.strategy, resolved.adapter, resolved.target, selected)
  if (why !== null) throw new UsageError(why, 'surge-cuts-drain')
}
