/**
 * A new worker that failed its status check is not stopped: the server keeps it in the pool, and it
 * takes requests with the broken release. Tell it as it is, in the run's message, the JSON report
 * (`failing`) and `status`: which worker, what it runs, what its check said, and what to do.
 */
import { targetOptions, type RawTargetFlags } from '../commands/common.js'
import { isAlive } from '../proc/procfs.js'
import type { RollOutcome } from '../roll/roller.js'
import { describeTargetFlags } from '../servers/resolve.js'
import type { GroupState } from '../state/state-file.js'

export interface FailingWorker {
  pid: number
  /** what it reported it loaded (RELEASE=), or null */
  release: string | null
  /** what its status check said */
  status: string | null
  /** still alive, so the server hands it requests */
  serving: boolean
}

const isOk = (status: string | null) => status !== null && /^2\d\d\b/.test(status)
/** the hook's worker_exit: the app never loaded, so the worker never took a request (python-hooks/.../boot_failure.py) */
const bootFailed = (status: string | null) => status !== null && status.startsWith('boot failed:')

/**
 * The new workers of this roll whose datagram said their check failed (READY=0 or non-2xx) and
 * that still run. A worker that reported 2xx but the wrong release runs old code: not one of these.
 */
export function failingWorkers(outcome: Pick<RollOutcome, 'steps'>, alive: (pid: number) => boolean = isAlive): FailingWorker[] {
  return outcome.steps
    .filter((s) => s.state === 'failed' && s.newPid !== null && s.claimedAt !== null && !isOk(s.status) && !bootFailed(s.status))
    .filter((s) => alive(s.newPid as number))
    .map((s) => ({ pid: s.newPid as number, release: s.release, status: s.status, serving: true }))
}

/** What the group's state file says of its live workers that failed their check. */
export function failingInState(state: GroupState | null, live: ReadonlySet<number>): FailingWorker[] {
  return Object.values(state?.workers ?? {})
    .filter((w) => !w.ready && live.has(w.pid) && !isOk(w.status) && !bootFailed(w.status))
    .map((w) => ({ pid: w.pid, release: w.release, status: w.status, serving: true }))
}

/** The release root of the group's last deploy, for `rolling-restart rollback --root`. */
export function releaseRootOf(state: GroupState | null): string | null {
  const history = state?.releases?.history ?? []
  return [...history].reverse().find((e) => typeof e.root === 'string')?.root ?? null
}

/** What to do about them: roll back when a release layout is used, or fix, resume and run again. */
export function whatToDo(target: string, root: string | null): string {
  const back = root !== null ? `roll back with \`rolling-restart rollback --root ${root} ${target}\`, or ` : ''
  return `To stop serving it, ${back}fix the release (or put the old code back), then \`rolling-restart resume ${target}\` and run again: the next run replaces it too`
}

/** `Worker 5163 runs release r2, failed its check (500 Internal Server Error), and is taking requests.` */
export function failingSentence(f: FailingWorker[]): string {
  if (f.length === 0) return ''
  const one = (w: FailingWorker) =>
    `worker ${w.pid} runs ${w.release ? `release ${w.release}` : 'the new code'}, failed its check (${w.status ?? 'no status'})`
  const list = f.map(one)
  const verb = f.length === 1 ? 'is' : 'are'
  const said = list.length === 1 ? list[0] : `${list.slice(0, -1).join('; ')}; and ${list[list.length - 1]}`
  return `${capitalize(said as string)}, and ${verb} taking requests.`
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1)
}

/** The whole tale for a message: what they are and what to do; '' when there are none. */
export function tellFailing(f: FailingWorker[], target: string, root: string | null): string {
  return f.length === 0 ? '' : `${failingSentence(f)} ${whatToDo(target, root)}.`
}

/** For a run's message: the failing workers it leaves, with its own target flags and the group's release root. */
export function failingNote(run: { flags: RawTargetFlags; prior: GroupState | null }, f: FailingWorker[], root = releaseRootOf(run.prior)): string {
  return f.length === 0 ? '' : ` ${tellFailing(f, describeTargetFlags(targetOptions(run.flags)), root)}`
}

/**
 * After a deploy's rollback: the failing workers it restarted on the old release, and any it could
 * not (still taking requests with the new one).
 */
export function afterRollbackNote(
  before: FailingWorker[],
  after: FailingWorker[],
  old: string,
  run: { flags: RawTargetFlags; prior: GroupState | null; layout: { root: string } },
): string {
  const restarted = before.filter((b) => !after.some((a) => a.pid === b.pid))
  const said = restarted.map((w) => `worker ${w.pid}, which ran ${w.release ?? 'the new code'} and failed its check (${w.status ?? 'no status'}), was restarted on ${old} by the rollback`)
  return (said.length ? ` ${capitalize(said.join('; '))}.` : '') + failingNote(run, after, run.layout.root)
}

/** A failed boot the hook said Gunicorn halts the master for (boot_failure.py, no serving sibling): say what that means. */
export function haltNote(outcome: Pick<RollOutcome, 'steps'>): string {
  const halting = outcome.steps.find((s) => bootFailed(s.status) && (s.status as string).includes('Gunicorn halts the master'))
  return halting
    ? ` Worker ${halting.newPid} failed to boot and no other worker that loaded the app was left, so Gunicorn halts the master: ` +
        'the workers said to keep serving stop with it. Start the server again once the release is fixed.'
    : ''
}
