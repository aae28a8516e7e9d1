/**
 * `rolling-restart deploy --root DIR --release NAME` and `rolling-restart rollback --root DIR`.
 *
 *   check the release  -> resolve, lock, refuse in error-resistance mode
 *   -> refuse when the server cannot load new code on a worker restart (preload_app, stale chdir)
 *   -> preflight the new release (its own directory, before `current` moves)
 *   -> point `current` at it (symlink + rename(2))
 *   -> roll every worker, each new one checked to report the new release
 *   -> success: record it in the release history, prune with --keep
 *   -> failure: point `current` back, restart the workers already replaced (and any new one still
 *      booting) so only the old release serves; error-resistance mode either way; exit 4
 *
 * `rollback` is the same walk towards the release before the live one in the history.
 */
import { existsSync, realpathSync } from 'node:fs'
import type { Command } from 'commander'
import { formatMs, parsePositiveInt } from '../config.js'
import { EXIT, RefusedError, RollingRestartError, TargetError, UsageError, type ExitCode } from '../errors.js'
import { createOutput, type Output } from '../output/logger.js'
import { isSameProcess, type ProcInfo } from '../proc/procfs.js'
import type { Readiness } from '../readiness/protocol.js'
import type { ReadinessListener } from '../readiness/listener.js'
import type { RollOutcome } from '../roll/roller.js'
import { appendHistory, lastLive, previousRelease, releaseStack } from '../release/history.js'
import {
  checkLayout,
  checkRelease,
  isWithin,
  layoutOf,
  listReleases,
  pointCurrentAt,
  readCurrent,
  releaseDir,
  swapSymlink,
  validateReleaseName,
  type CurrentLink,
  type ReleaseLayout,
} from '../release/layout.js'
import { removeRelease, selectPrunable } from '../release/prune.js'
import type { Resolved } from '../servers/resolve.js'
import { readState, type ReleaseHistoryEntry, type ReplacedEntry } from '../state/state-file.js'
import { addOutputOptions, addTargetOptions, logFormat, printJson, stateDir } from './common.js'
import {
  addPreflightOptions,
  addRollOptions,
  baseReport,
  checkPermission,
  interrupted,
  lockGroup,
  Interrupted,
  openListener,
  parseRestartFlags,
  preflightStep,
  recordErrorResistance,
  recordOutcome,
  refuseInErrorResistance,
  releaseCheck,
  replacedEntries,
  resolveForRun,
  rollTracked,
  stableWorkers,
  type RestartFlags,
  type RestartPlan,
  type RestartReport,
} from './restart.js'

export interface DeployFlags extends RestartFlags {
  root?: string
  release?: string
  keep?: string
}

export type DeployAction = 'deploy' | 'rollback'

export function addDeployOptions(cmd: Command, action: DeployAction): Command {
  addTargetOptions(cmd)
  cmd.requiredOption('--root <dir>', 'the directory holding releases/NAME and the current symlink')
  if (action === 'deploy') cmd.requiredOption('--release <name>', 'the release to deploy: a directory in ROOT/releases/')
  cmd.option('--keep <n>', `after a successful ${action}, remove the oldest releases that have been live so that n remain (never the live or the previous one; never one that was never live)`)
  addRollOptions(cmd)
  addPreflightOptions(cmd)
  return addOutputOptions(cmd)
}

export interface RollbackReport {
  ok: boolean
  /** where `current` points after the rollback */
  current: string | null
  replaced: ReplacedEntry[]
  aborted: RollOutcome['aborted']
  message: string
}

export interface DeployReport extends RestartReport {
  deploy: {
    action: DeployAction
    root: string
    release: string
    /** the release that was live before (what a failure goes back to) */
    previous: string | null
    /** `current` was pointed at the release by this run */
    swapped: boolean
    /** where `current` points at the end */
    current: string | null
    /** the new release failed and `current` was pointed back */
    rolledBack: boolean
    rollback: RollbackReport | null
    pruned: string[]
    pruneErrors: Array<{ release: string; error: string }>
  }
}

export async function deployCommand(flags: DeployFlags, action: DeployAction, interrupt?: AbortSignal): Promise<ExitCode | 130> {
  const plan = parseRestartFlags(flags)
  const keep = flags.keep !== undefined ? parsePositiveInt('--keep', flags.keep, { min: 1, max: 10_000 }) : null
  const layout = layoutOf(flags.root as string)
  checkLayout(layout)
  if (action === 'deploy') {
    validateReleaseName('--release', flags.release as string)
    checkRelease(layout, flags.release as string)
  }
  const out = createOutput({ logFile: flags.logFile, format: logFormat(flags.logFormat) })
  try {
    return await deploy(flags, action, plan, keep, layout, out, interrupt)
  } catch (err) {
    if (err instanceof Interrupted) return interrupted(err, out)
    throw err
  } finally {
    out.flush()
  }
}

async function deploy(
  flags: DeployFlags,
  action: DeployAction,
  plan: RestartPlan,
  keep: number | null,
  layout: ReleaseLayout,
  out: Output,
  interrupt?: AbortSignal,
): Promise<ExitCode | 130> {
  const before = readCurrent(layout)
  const dir = stateDir(flags)
  const resolved = resolveForRun(flags, plan, out)
  const { target } = resolved
  const { key, lock } = await lockGroup(dir, target, out)
  try {
    const prior = readState(dir, key)
    refuseInErrorResistance(prior, flags, target.group)
    const history = prior?.releases?.history ?? []
    const live = before?.release ?? null
    const name = action === 'deploy' ? (flags.release as string) : rollbackTarget(layout, history, live)
    checkRelease(layout, name)
    refuseOldCodeHazards(resolved, layout, name)

    const workers = await stableWorkers(resolved, out)
    if (workers.length === 0) {
      throw new TargetError(`${target.description} has no workers right now: is it starting up or shutting down?`, 'no-workers')
    }
    checkPermission(target.masterPid, target.description)
    for (const w of workers) checkPermission(w.pid, `worker ${w.pid}`)

    const newDir = releaseDir(layout, name)
    const startedAt = new Date().toISOString()
    const verb = action === 'deploy' ? 'deploying' : 'rolling back to'
    out.logger.info({ event: `${action}-start`, root: layout.root, release: name, live, workers: workers.map((w) => w.pid) }, `${verb} ${name} (live: ${live ?? 'none'})`)
    out.progress(`${verb} ${name} in ${layout.root} (live: ${live ?? 'none'})`)

    const listener = await openListener(plan, out)
    try {
      const report = baseReport(resolved, plan, workers, workers.map((w) => w.pid), []) as DeployReport
      report.deploy = {
        action,
        root: layout.root,
        release: name,
        previous: live,
        swapped: false,
        current: before?.target ?? null,
        rolledBack: false,
        rollback: null,
        pruned: [],
        pruneErrors: [],
      }

      // 1. preflight the new release, from its own directory: `current` has not moved yet
      const verdict = await preflightStep(resolved, plan, out, { layout, dir: newDir }, interrupt, prior)
      report.preflight = verdict?.report ?? null
      if (verdict?.failure) {
        if (verdict.failure.kind === 'could-not-run') {
          throw new RollingRestartError(verdict.failure.message, EXIT.INTERNAL, 'preflight-error')
        }
        const message = `${action} of ${name} stopped by the preflight; ${layout.current} still points to ${before?.target ?? 'nothing'} and no worker was touched: ${verdict.failure.message}`
        recordErrorResistance(dir, resolved, { reason: 'preflight', message, untouched: workers.map((w) => w.pid) })
        return failed(flags, report, out, { reason: 'preflight', message, untouched: workers.map((w) => w.pid) }, target.group)
      }

      // 2. swap `current`
      if (live !== name) {
        pointCurrentAt(layout, name)
        report.deploy.swapped = true
        report.deploy.current = readCurrent(layout)?.target ?? null
        out.logger.info({ event: 'current-swapped', from: before?.target ?? null, to: report.deploy.current }, `${layout.current} -> ${report.deploy.current}`)
        out.progress(`${layout.current} -> ${report.deploy.current}`)
      } else {
        out.logger.info({ event: 'already-live', release: name }, `${name} is already live; rolling the workers onto it`)
      }

      // 3. roll every worker, each new one checked to run the new release
      const outcome = await rollTracked({
        dir,
        resolved,
        listener,
        workers,
        selected: workers,
        plan,
        flags,
        out,
        interrupt,
        checkRelease: releaseMatch(layout, name, plan.expectRelease),
        surplus: prior?.surplus ?? 0,
      })
      fillFromOutcome(report, outcome)

      if (outcome.ok) {
        const entry: ReleaseHistoryEntry = { release: name, at: new Date().toISOString(), action, root: layout.root }
        let newHistory: ReleaseHistoryEntry[] = history
        recordOutcome(dir, resolved, outcome, undefined, (s) => {
          let h = s.releases?.history ?? []
          // the release live before this run, when the history does not have it on top: so a rollback can find it
          if (live !== null && live !== name && releaseStack(h).at(-1) !== live) h = appendHistory(h, { release: live, at: startedAt, action: 'found', root: layout.root })
          s.releases = { history: appendHistory(h, entry) }
          newHistory = s.releases.history
        })
        if (keep !== null) prune(layout, name, live !== name ? live : previousRelease(newHistory, name, (n) => existsSync(releaseDir(layout, n))), keep, newHistory, report, out)
        report.message =
          `${action === 'deploy' ? 'deployed' : 'rolled back to'} ${name}: ${layout.current} -> ${report.deploy.current}; ` +
          `${report.replaced.length} of ${workers.length} workers of ${target.description} replaced in ${formatMs(outcome.durationMs)}` +
          (report.deploy.pruned.length ? `; removed ${report.deploy.pruned.join(', ')}` : '')
        out.logger.info({ event: 'report', ...report }, report.message)
        out.progress(report.message)
        if (flags.json) printJson(report)
        return EXIT.OK
      }

      if (outcome.aborted?.reason === 'interrupted') {
        recordOutcome(dir, resolved, outcome)
        report.message =
          `interrupted after ${report.replaced.length} of ${workers.length} workers: ${layout.current} points to ${report.deploy.current}, ` +
          `the untouched workers (${outcome.untouched.join(', ') || 'none'}) still run ${live ?? 'the old code'}. Run the ${action} again to finish it, ` +
          `or \`rolling-restart rollback --root ${layout.root}\`. The group is not in error-resistance mode`
        out.logger.warn({ event: 'report', ...report }, report.message)
        out.progress(report.message)
        if (flags.json) printJson(report)
        return 130
      }

      // 4. the release failed: back to where we were
      const back = await rollBack({ flags, plan, dir, resolved, listener, layout, before, name, outcome, out, interrupt })
      report.deploy.rolledBack = back.swapped
      report.deploy.rollback = back.report
      report.deploy.current = readCurrent(layout)?.target ?? null
      const a = outcome.aborted as NonNullable<RollOutcome['aborted']>
      const message =
        `${action} of ${name} failed after ${report.replaced.length} of ${workers.length} workers: ${a.message}. ${back.report.message}`
      const er = { reason: a.reason, message, untouched: outcome.untouched, replaced: replacedEntries(outcome) }
      recordOutcome(dir, resolved, outcome, er)
      if (back.outcome) {
        // a good rollback roll must not clear the surplus the failed roll (or an earlier one) left
        const surplus = Math.max(0, (prior?.surplus ?? 0) + outcome.surplus + back.outcome.surplus)
        recordOutcome(dir, resolved, back.outcome, er, (s) => {
          s.surplus = surplus
        })
      }
      return failed(flags, report, out, { reason: a.reason, message, untouched: outcome.untouched }, target.group)
    } finally {
      await listener.close()
    }
  } finally {
    lock.release()
  }
}

function fillFromOutcome(report: RestartReport, outcome: RollOutcome): void {
  report.ok = outcome.ok
  report.replaced = replacedEntries(outcome)
  report.aborted = outcome.aborted
  report.untouched = outcome.untouched
  report.surplus = Math.max(0, outcome.surplus)
  report.durationMs = outcome.durationMs
}

function failed(
  flags: DeployFlags,
  report: DeployReport,
  out: Output,
  what: { reason: string; message: string; untouched: number[] },
  group: string,
): ExitCode {
  report.ok = false
  report.errorResistance = true
  report.untouched = what.untouched
  if (!report.aborted) report.aborted = { reason: what.reason, message: what.message, oldPid: null, newPid: null }
  report.message = `${what.message}\nGroup '${group}' is now in error-resistance mode: later runs exit 5 until \`rolling-restart resume\`.`
  out.logger.error({ event: 'report', ...report }, report.message)
  out.progress(report.message)
  if (flags.json) printJson(report)
  return EXIT.ABORTED
}

/**
 * The release before the live one, from the history. Without a history there is no telling which
 * directory was live before (directory times are not reliable: cp -a and rsync -a keep the
 * source's), so the operator names it with deploy --release.
 */
function rollbackTarget(layout: ReleaseLayout, history: readonly ReleaseHistoryEntry[], live: string | null): string {
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

/**
 * A worker runs release NAME when its ROOT is inside releases/NAME, or, when ROOT says nothing
 * about the layout, its RELEASE is NAME. A ROOT inside another release is old code, whatever its
 * RELEASE says. With --expect-release, RELEASE must also equal it.
 */
export function releaseMatch(layout: ReleaseLayout, name: string, expectRelease: string | null): (r: Readiness) => string | null {
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

/** preload_app or a chdir that does not follow `current`: every worker would load old code. Refuse up front. */
function refuseOldCodeHazards(resolved: Resolved, layout: ReleaseLayout, name: string): void {
  const hazards = (resolved.adapter.hazards?.(resolved.target, { releaseRoot: layout.root }) ?? []).filter(
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

interface RollBackInput {
  flags: DeployFlags
  plan: RestartPlan
  dir: string
  resolved: Resolved
  listener: ReadinessListener
  layout: ReleaseLayout
  before: CurrentLink | null
  name: string
  outcome: RollOutcome
  out: Output
  interrupt?: AbortSignal | undefined
}

/**
 * Point `current` back to what it was and replace every worker that is not one of the untouched
 * old ones (the replaced workers, a failed new one still running, one still booting), each checked
 * to report the old release.
 */
async function rollBack(i: RollBackInput): Promise<{ swapped: boolean; report: RollbackReport; outcome: RollOutcome | null }> {
  const { layout, before, name, resolved, out } = i
  const { adapter, target } = resolved
  const report: RollbackReport = { ok: false, current: readCurrent(layout)?.target ?? null, replaced: [], aborted: null, message: '' }
  if (!before) {
    report.message = `There was no ${layout.current} before this run, so there is nothing to go back to: it still points to releases/${name}`
    return { swapped: false, report, outcome: null }
  }
  if (before.release === name) {
    report.message = `${name} was already live before this run, so there is no older release to go back to`
    return { swapped: false, report, outcome: null }
  }
  swapSymlink(layout.current, before.target)
  report.current = readCurrent(layout)?.target ?? null
  out.logger.warn({ event: 'current-restored', to: report.current }, `rolled back: ${layout.current} -> ${report.current}`)
  out.progress(`rolling back: ${layout.current} -> ${report.current}`)
  const old = before.release ?? before.target

  if (!isSameProcess(target.masterPid, target.masterStartTicks)) {
    report.message = `Rolled back: ${layout.current} points to ${report.current} again. ${target.description} has exited, so no worker could be restarted: start the server again (it will load ${old})`
    return { swapped: true, report, outcome: null }
  }
  const untouched = new Set(i.outcome.untouched)
  const now = adapter.workers(target)
  const toReplace = now.filter((w) => !untouched.has(w.pid))
  if (toReplace.length === 0) {
    report.ok = true
    report.message = `Rolled back: ${layout.current} points to ${report.current} again; no worker had loaded ${name}, so none needed restarting`
    return { swapped: true, report, outcome: null }
  }
  out.progress(`rolling back: restarting ${toReplace.length} worker(s) that run ${name} (${toReplace.map((w) => w.pid).join(', ')})`)
  const outcome = await rollTracked({
    dir: i.dir,
    resolved,
    listener: i.listener,
    workers: now,
    selected: toReplace as ProcInfo[],
    plan: { ...i.plan, strategy: 'replace', batch: 1 },
    flags: i.flags,
    out,
    interrupt: i.interrupt,
    checkRelease: before.release !== null ? releaseMatch(layout, before.release, null) : undefined,
    surplus: 0,
  })
  report.ok = outcome.ok
  report.replaced = replacedEntries(outcome)
  report.aborted = outcome.aborted
  report.message = outcome.ok
    ? `Rolled back: ${layout.current} points to ${report.current} again, and the ${report.replaced.length} worker(s) that had loaded ${name} were restarted on ${old}; every worker now runs ${old}`
    : `Rollback FAILED: ${layout.current} points to ${report.current} again, but restarting the workers that had loaded ${name} stopped after ${report.replaced.length} of ${toReplace.length}: ${outcome.aborted?.message}. ` +
      `Workers still on ${name}: ${adapter
        .workers(target)
        .filter((w) => !untouched.has(w.pid) && !report.replaced.some((r) => r.newPid === w.pid))
        .map((w) => w.pid)
        .join(', ') || 'none'}`
  return { swapped: true, report, outcome }
}

function prune(
  layout: ReleaseLayout,
  live: string,
  previous: string | null,
  keep: number,
  history: readonly ReleaseHistoryEntry[],
  report: DeployReport,
  out: Output,
): void {
  const doomed = selectPrunable({ releases: listReleases(layout), live, previous, keep, lastLive: lastLive(history) })
  for (const name of doomed) {
    try {
      removeRelease(layout, name)
      report.deploy.pruned.push(name)
      out.logger.info({ event: 'pruned', release: name }, `removed ${releaseDir(layout, name)} (--keep ${keep})`)
    } catch (err) {
      report.deploy.pruneErrors.push({ release: name, error: (err as Error).message })
      out.logger.warn({ event: 'prune-failed', release: name, error: (err as Error).message }, `could not remove ${releaseDir(layout, name)}`)
    }
  }
}

