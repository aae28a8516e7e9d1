/**
 * Gather the facts about the group a switch sends traffic to (its live processes under Apache, its
 * state file, a roll holding its lock, the `--verify-url` answer) and judge them with judgeGroup.
 */
import { formatMs } from '../config.js'
import { EXIT, RollingRestartError, TargetError, errorMessage } from '../errors.js'
import { resolveTarget } from '../servers/resolve.js'
import { holderAlive, lockPath, readHolder } from '../state/lock.js'
import { readState, stateKey } from '../state/state-file.js'
import type { SwitchPlan } from './flags.js'
import { judgeGroup, type Judgement, type VerifyOutcome } from './group-judgement.js'

export interface GroupCheck {
  judgement: Judgement
  verify: VerifyOutcome | null
  masterPid: number | null
  /** the group's live daemon processes */
  live: number[]
}

/** Gather the facts about `group` and judge them. A group that cannot be found is exit 3, or a problem under --force. */
export async function checkGroup(group: string, plan: SwitchPlan, dir: string): Promise<GroupCheck> {
  const verify = plan.verifyUrl !== null ? await verifyUrl(plan.verifyUrl, plan.verifyTimeoutMs) : null
  let resolved
  try {
    resolved = await resolveTarget({ group, server: 'mod_wsgi', apachePidfile: plan.apachePidfile })
  } catch (err) {
    const notFound = err instanceof RollingRestartError && err.exitCode === EXIT.TARGET
    if (!notFound) throw err
    if (!plan.force) {
      // the lookup speaks of --pidfile/--master, which switch does not take: --apache-pidfile is its way
      const why = err.message.replace(/\.? Or name the master with --pidfile FILE or --master PID\.?$/, '')
      throw new TargetError(
        `cannot switch to ${group}: ${why}. A routing file naming a group Apache does not run answers 500 to every request; ` +
          `check the name (WSGIDaemonProcess ${group}), give --apache-pidfile FILE where several Apaches run, or pass --force to write it anyway`,
        err.code,
      )
    }
    const problems = [`it was not found (${errorMessage(err)})`]
    if (verify && !verify.ok) problems.push(`--verify-url ${verify.url} answered ${verify.detail}, not 2xx`)
    return { judgement: { ready: false, problems, readyPids: [], unknownPids: [] }, verify, masterPid: null, live: [] }
  }
  const { adapter, target } = resolved
  const key = stateKey(target.server, target.group)
  const holder = readHolder(lockPath(dir, key))
  const rollRunner = holder !== null && holder !== 'partial' && holderAlive(holder) ? holder.pid : null
  const live = adapter.workers(target).map((w) => w.pid)
  const expected = typeof target.meta.processes === 'number' ? target.meta.processes : null
  const judgement = judgeGroup({ group, live, expected, state: readState(dir, key), rollRunner, verify })
  return { judgement, verify, masterPid: target.masterPid, live }
}

/** GET `url` without following redirects: 2xx is ok; anything else, or no answer in time, is not. */
export async function verifyUrl(url: string, timeoutMs: number): Promise<VerifyOutcome> {
  try {
    const res = await fetch(url, {
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
      headers: { 'user-agent': 'rolling-restart switch --verify-url' },
    })
    await res.body?.cancel()
    return { url, ok: res.status >= 200 && res.status < 300, detail: `${res.status} ${res.statusText}`.trim() }
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } }
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return { url, ok: false, detail: `no answer within ${formatMs(timeoutMs)}` }
    return { url, ok: false, detail: e.cause?.message ?? e.cause?.code ?? e.message }
  }
}
