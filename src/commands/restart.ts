/**
 * `rolling-restart [restart]`: resolve -> lock -> check the group's mode -> select -> listen -> roll
 * -> record -> report. Returns the exit code; never calls process.exit.
 */
import type { Command } from 'commander'
import { DEFAULTS, STRATEGIES, formatMs, parseChoice, parseDuration, parsePositiveInt, parseSize, type Strategy } from '../config.js'
import { EXIT, RefusedError, TargetError, UsageError, type ExitCode } from '../errors.js'
import { createOutput, type Output } from '../output/logger.js'
import { childrenViaPs, signal, usage, type ProcInfo } from '../proc/procfs.js'
import { ReadinessListener } from '../readiness/listener.js'
import type { Readiness } from '../readiness/protocol.js'
import { isOldestPrefix, selectWorkers, type SelectionCriteria } from '../roll/plan.js'
import { roll, type RollOutcome } from '../roll/roller.js'
import { readyMs } from '../roll/records.js'
import { resolveTarget, type Resolved } from '../servers/resolve.js'
import { acquireLock } from '../state/lock.js'
import { readState, stateKey, updateState, type GroupState, type ReplacedEntry } from '../state/state-file.js'
import {
  addOutputOptions,
  addTargetOptions,
  loadSecret,
  logFormat,
  notifyAddress,
  printJson,
  stateDir,
  targetOptions,
  type RawTargetFlags,
} from './common.js'

export interface RestartFlags extends RawTargetFlags {
  strategy?: string
  batch?: string
  readyTimeout?: string
  drainTimeout?: string
  notify?: string
  secretFile?: string
  acceptBareOk?: boolean
  expectRelease?: string
  olderThan?: string
  rssAbove?: string
  maxWorkers?: string
  force?: boolean
  json?: boolean
  logFile?: string
  logFormat?: string
}

export function addRestartOptions(cmd: Command): Command {
  addTargetOptions(cmd)
  cmd
    .option('--strategy <name>', `replace (stop one, wait for its replacement) or surge (start one more first; Gunicorn)`, DEFAULTS.strategy)
    .option('--batch <n>', 'workers in flight at once', String(DEFAULTS.batch))
    .option('--ready-timeout <duration>', 'how long a new worker may take to report ready', `${DEFAULTS.readyTimeoutMs / 1000}s`)
    .option('--drain-timeout <duration>', 'how long an old worker may take to finish its requests and exit', `${DEFAULTS.drainTimeoutMs / 1000}s`)
    .option('--notify <host:port>', `where to listen for readiness datagrams (env ROLLING_RESTART_NOTIFY; default ${DEFAULTS.notify})`)
    .option('--secret-file <file>', 'require datagrams signed with the key in this file (env ROLLING_RESTART_SECRET_FILE)')
    .option('--accept-bare-ok', 'accept a bare "200 OK" datagram from older hand-made hooks (batch 1 only)')
    .option('--expect-release <id>', "fail a step whose new worker reports another RELEASE")
    .option('--older-than <duration>', 'only restart workers running longer than this (e.g. 12h)')
    .option('--rss-above <size>', 'only restart workers using more memory than this (e.g. 512M)')
    .option('--max-workers <k>', 'restart at most this many workers in this run')
    .option('--force', 'run even though the group is in error-resistance mode')
  return addOutputOptions(cmd)
}

export interface RestartPlan {
  strategy: Strategy
  batch: number
  readyTimeoutMs: number
  drainTimeoutMs: number
  criteria: SelectionCriteria
  expectRelease: string | null
}

/** Every flag checked before anything is looked up or touched. */
export function parseRestartFlags(f: RestartFlags): RestartPlan {
  const strategy = parseChoice('--strategy', f.strategy ?? DEFAULTS.strategy, STRATEGIES)
  const batch = parsePositiveInt('--batch', f.batch ?? String(DEFAULTS.batch), { min: 1, max: 64 })
  if (f.acceptBareOk && batch > 1) {
    throw new UsageError('--accept-bare-ok needs --batch 1: a bare "200 OK" carries no pid, so with several workers in flight it cannot be told apart')
  }
  return {
    strategy,
    batch,
    readyTimeoutMs: f.readyTimeout !== undefined ? parseDuration('--ready-timeout', f.readyTimeout) : DEFAULTS.readyTimeoutMs,
    drainTimeoutMs: f.drainTimeout !== undefined ? parseDuration('--drain-timeout', f.drainTimeout) : DEFAULTS.drainTimeoutMs,
    criteria: {
      olderThanMs: f.olderThan !== undefined ? parseDuration('--older-than', f.olderThan) : undefined,
      rssAboveBytes: f.rssAbove !== undefined ? parseSize('--rss-above', f.rssAbove) : undefined,
      maxWorkers: f.maxWorkers !== undefined ? parsePositiveInt('--max-workers', f.maxWorkers) : undefined,
    },
    expectRelease: f.expectRelease ?? null,
  }
}

export interface RestartReport {
  ok: boolean
  group: string
  server: string
  masterPid: number
  strategy: Strategy
  batch: number
  workers: number[]
  selected: number[]
  skipped: Array<{ pid: number; why: string }>
  replaced: ReplacedEntry[]
  aborted: { reason: string; message: string; oldPid: number | null; newPid: number | null } | null
  errorResistance: boolean
  untouched: number[]
  surplus: number
  durationMs: number
  message: string
}

export async function restartCommand(flags: RestartFlags, interrupt?: AbortSignal): Promise<ExitCode | 130> {
  const plan = parseRestartFlags(flags)
  const out = createOutput({ logFile: flags.logFile, format: logFormat(flags.logFormat) })
  try {
    return await restart(flags, plan, out, interrupt)
  } finally {
    out.flush()
  }
}

async function restart(flags: RestartFlags, plan: RestartPlan, out: Output, interrupt?: AbortSignal): Promise<ExitCode | 130> {
  const notify = notifyAddress(flags.notify)
  const secret = loadSecret(flags.secretFile)
  const dir = stateDir(flags)
  const resolved = resolveTarget(targetOptions(flags))
  const { adapter, target } = resolved
  out.logger.info({ event: 'resolved', server: target.server, group: target.group, masterPid: target.masterPid, via: target.via }, resolved.picked)
  if (flags.server === 'auto' || flags.server === undefined) out.progress(resolved.picked)

  if (plan.strategy === 'surge' && !adapter.canSurge) {
    throw new UsageError(
      `--strategy surge needs a server that can run one extra worker on request; ${adapter.label} cannot ` +
        `(its process count is fixed by its configuration). Use --strategy replace`,
    )
  }

  const key = stateKey(target.server, target.group)
  const lock = acquireLock(dir, key, target.group)
  try {
    if (lock.recoveredFrom) {
      out.logger.warn({ event: 'lock-recovered', holder: lock.recoveredFrom }, `recovered the lock left by a dead run (pid ${lock.recoveredFrom.pid})`)
    }
    const prior = readState(dir, key)
    if (prior?.errorResistance && !flags.force) {
      const er = prior.errorResistance
      throw new RefusedError(
        `group '${target.group}' is in error-resistance mode since ${er.at}: ${er.message}\n` +
          `Nothing was touched. Fix the cause, then run \`rolling-restart resume ${flagsForMessage(flags)}\` (or pass --force to roll anyway)`,
        'error-resistance',
      )
    }

    const workers = await stableWorkers(resolved, out)
    if (workers.length === 0) {
      throw new TargetError(`${target.description} has no workers right now: is it starting up or shutting down?`, 'no-workers')
    }
    const selection = await select(workers, plan.criteria)
    if (plan.strategy === 'surge' && !isOldestPrefix(workers, selection.selected)) {
      throw new UsageError(
        `--strategy surge lets the master retire its oldest workers (Gunicorn TTOU), but this selection picks others ` +
          `(${selection.selected.map((w) => w.pid).join(', ')}). Use --strategy replace with --rss-above`,
      )
    }
    const selected = selection.selected.map((s) => workers.find((w) => w.pid === s.pid) as ProcInfo)
    const surplus = prior?.surplus ?? 0

    if (selected.length === 0) {
      const report = baseReport(resolved, plan, workers, [], selection.skipped)
      report.message = `nothing to do: none of the ${workers.length} workers matches the selection`
      out.logger.info({ event: 'nothing-selected', skipped: selection.skipped }, report.message)
      out.progress(report.message)
      if (flags.json) printJson(report)
      return EXIT.OK
    }

    checkPermission(target.masterPid, target.description)
    for (const w of selected) checkPermission(w.pid, `worker ${w.pid}`)

    const listener = await ReadinessListener.open(notify, { secret, acceptBareOk: flags.acceptBareOk ?? false }, (r) =>
      out.event({ event: 'datagram-ignored', from: r.from, reason: r.reason, detail: r.detail }),
    )
    let outcome: RollOutcome
    try {
      const keyInit = { key, group: target.group, server: target.server, masterPid: target.masterPid }
      const started = new Date().toISOString()
      const record = (fn: (s: GroupState) => void) => updateState(dir, keyInit, fn)
      record((s) => {
        s.roll = {
          runPid: process.pid,
          startedAt: started,
          strategy: plan.strategy,
          total: selected.length,
          done: 0,
          inFlight: [],
          oldPids: workers.map((w) => w.pid),
        }
      })
      outcome = await roll({
        adapter,
        target,
        listener,
        workers,
        selected,
        interrupt,
        options: {
          strategy: plan.strategy,
          batch: plan.batch,
          readyTimeoutMs: plan.readyTimeoutMs,
          drainTimeoutMs: plan.drainTimeoutMs,
          masterReactTimeoutMs: DEFAULTS.masterReactTimeoutMs,
          pollIntervalMs: DEFAULTS.pollIntervalMs,
          acceptBareOk: flags.acceptBareOk ?? false,
          checkRelease: plan.expectRelease !== null ? releaseCheck(plan.expectRelease) : undefined,
          surplusToRetire: surplus,
        },
        emit: (e) => {
          out.event(e)
          if (e.event === 'ready' && e.newPid !== null) {
            record((s) => {
              s.workers[String(e.newPid)] = {
                pid: e.newPid as number,
                ready: true,
                replacedPid: e.oldPid,
                readyAt: Date.now(),
                readyMs: e.ms,
                bootMs: e.bootMs,
                status: e.status,
                release: e.release,
                root: null,
              }
              if (s.roll) s.roll.done++
            })
          }
        },
        onProgress: (steps) =>
          record((s) => {
            if (s.roll) s.roll.inFlight = steps.filter((x) => x.state === 'signaled' || x.state === 'exited' || x.state === 'awaiting-ready').map((x) => x.oldPid ?? 0)
          }),
      })
    } finally {
      await listener.close()
    }
    return finish(flags, dir, resolved, plan, workers, selection.skipped, outcome, out)
  } finally {
    lock.release()
  }
}

function finish(
  flags: RestartFlags,
  dir: string,
  resolved: Resolved,
  plan: RestartPlan,
  workers: ProcInfo[],
  skipped: Array<{ pid: number; why: string }>,
  outcome: RollOutcome,
  out: Output,
): ExitCode | 130 {
  const { target } = resolved
  const replaced: ReplacedEntry[] = outcome.steps
    .filter((s) => s.state === 'ready')
    .map((s) => ({ oldPid: s.oldPid ?? 0, newPid: s.newPid ?? 0, readyMs: readyMs(s) ?? 0, status: s.status, release: s.release }))
  const interrupted = outcome.aborted?.reason === 'interrupted'
  const enterErrorResistance = !outcome.ok && !interrupted
  const report = baseReport(resolved, plan, workers, outcome.steps.map((s) => s.oldPid ?? 0), skipped)
  report.ok = outcome.ok
  report.replaced = replaced
  report.aborted = outcome.aborted
  report.errorResistance = enterErrorResistance
  report.untouched = outcome.untouched
  report.surplus = outcome.surplus
  report.durationMs = outcome.durationMs

  const live = new Set(resolved.adapter.workers(target).map((w) => w.pid))
  updateState(dir, { key: stateKey(target.server, target.group), group: target.group, server: target.server, masterPid: target.masterPid }, (s) => {
    s.roll = null
    // keep records only for workers that are still alive
    for (const pid of Object.keys(s.workers)) if (!live.has(Number(pid))) delete s.workers[pid]
    if (outcome.ok) s.surplus = 0
    else s.surplus += outcome.surplus
    for (const step of outcome.steps) {
      // a new worker that answered READY=0 (or the wrong release) is still running: say so in `status`
      if (step.state === 'failed' && step.newPid !== null && step.status !== null && live.has(step.newPid)) {
        s.workers[String(step.newPid)] = {
          pid: step.newPid,
          ready: false,
          replacedPid: step.oldPid,
          readyAt: Date.now(),
          readyMs: null,
          bootMs: step.bootMs,
          status: step.status,
          release: step.release,
          root: null,
        }
      }
    }
    if (enterErrorResistance && outcome.aborted) {
      s.errorResistance = {
        reason: outcome.aborted.reason,
        message: outcome.aborted.message,
        at: new Date().toISOString(),
        runPid: process.pid,
        oldPid: outcome.aborted.oldPid,
        newPid: outcome.aborted.newPid,
        replaced,
        untouched: outcome.untouched,
        surplus: outcome.surplus,
      }
    }
    s.runs = [
      ...s.runs,
      { at: new Date().toISOString(), ok: outcome.ok, replaced: replaced.length, aborted: outcome.aborted?.reason ?? null, durationMs: outcome.durationMs },
    ].slice(-20)
  })

  if (outcome.ok) {
    report.message = `${replaced.length} of ${workers.length} workers of ${target.description} replaced in ${formatMs(outcome.durationMs)}`
  } else if (interrupted) {
    report.message = `interrupted after ${replaced.length} of ${outcome.steps.length} workers; the group is not in error-resistance mode`
  } else {
    const a = outcome.aborted as NonNullable<RollOutcome['aborted']>
    report.message =
      `stopped after ${replaced.length} of ${outcome.steps.length} workers: ${a.message}. ` +
      `${outcome.untouched.length} old worker(s) were not touched and keep serving (${outcome.untouched.join(', ') || 'none'}). ` +
      `Group '${target.group}' is now in error-resistance mode: later runs exit 5 until \`rolling-restart resume\`.` +
      (outcome.surplus > 0 ? ` The master runs ${outcome.surplus} worker(s) above its configured count; the next good run retires them.` : '')
  }
  out.logger[outcome.ok ? 'info' : 'error']({ event: 'report', ...report }, report.message)
  if (!outcome.ok) out.progress(report.message)
  if (flags.json) printJson(report)
  if (outcome.ok) return EXIT.OK
  return interrupted ? 130 : EXIT.ABORTED
}

function baseReport(
  resolved: Resolved,
  plan: RestartPlan,
  workers: ProcInfo[],
  selected: number[],
  skipped: Array<{ pid: number; why: string }>,
): RestartReport {
  return {
    ok: true,
    group: resolved.target.group,
    server: resolved.target.server,
    masterPid: resolved.target.masterPid,
    strategy: plan.strategy,
    batch: plan.batch,
    workers: workers.map((w) => w.pid),
    selected,
    skipped,
    replaced: [],
    aborted: null,
    errorResistance: false,
    untouched: [],
    surplus: 0,
    durationMs: 0,
    message: '',
  }
}

/**
 * The workers to plan with: the adapter's view (/proc) checked against ps(1)'s view of the master's
 * children (ps-tree). A pid in only one of them is starting or exiting right now; it is left out of
 * this run rather than signalled mid-transition.
 */
async function stableWorkers(resolved: Resolved, out: Output): Promise<ProcInfo[]> {
  const viaProc = resolved.adapter.workers(resolved.target)
  let viaPs: Set<number>
  try {
    viaPs = new Set((await childrenViaPs(resolved.target.masterPid)).map((p) => p.pid))
  } catch (err) {
    out.logger.warn({ event: 'ps-failed', error: (err as Error).message }, 'ps(1) could not list the process tree; using /proc alone')
    return viaProc
  }
  const stable = viaProc.filter((w) => viaPs.has(w.pid))
  const moving = viaProc.filter((w) => !viaPs.has(w.pid)).map((w) => w.pid)
  if (moving.length) out.logger.info({ event: 'in-transition', pids: moving }, `left out ${moving.length} worker(s) that are starting or exiting right now`)
  return stable
}

async function select(workers: ProcInfo[], criteria: SelectionCriteria) {
  const rss = criteria.rssAboveBytes !== undefined ? await usage(workers.map((w) => w.pid)) : new Map()
  return selectWorkers(
    workers.map((w) => ({ pid: w.pid, startedAt: w.startedAt, rssBytes: rss.get(w.pid)?.rssBytes })),
    criteria,
    Date.now(),
  )
}

function releaseCheck(expected: string) {
  return (r: Readiness): string | null => {
    if (r.release === expected) return null
    return r.release === null
      ? `reported no RELEASE, expected ${JSON.stringify(expected)} (set ROLLING_RESTART_RELEASE or ship a REVISION file with the app)`
      : `reported RELEASE=${r.release}, expected ${expected}`
  }
}

function checkPermission(pid: number, what: string): void {
  if (signal(pid, 0) === 'denied') {
    throw new TargetError(`not permitted to signal ${what} (pid ${pid}): run rolling-restart as the server's user or as root`, 'denied')
  }
}

function flagsForMessage(f: RawTargetFlags): string {
  if (f.group !== undefined) return `--group ${f.group}`
  if (f.pidfile !== undefined) return `--pidfile ${f.pidfile}`
  return `--master ${f.master}`
}

