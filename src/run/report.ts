/**
 * The report a run ends with: one JSON object on stdout with --json, the same object as the
 * `report` log event, and its message on the terminal.
 */
import type { Strategy } from '../config.js'
import { EXIT, type ExitCode } from '../errors.js'
import type { PreflightReport } from '../preflight/verdict.js'
import type { RollOutcome } from '../roll/roller.js'
import type { Skipped } from '../roll/select.js'
import { replacedEntries } from '../state/record-outcome.js'
import type { ReplacedEntry } from '../state/state-file.js'
import { printJson } from '../commands/common.js'
import { failingWorkers, type FailingWorker } from './failing-workers.js'
import type { ChosenRun, RunStart } from './group-run.js'
import type { HaproxyReport } from './haproxy-report.js'

export interface RestartReport {
  ok: boolean
  group: string
  server: string
  masterPid: number
  strategy: Strategy
  batch: number
  workers: number[]
  selected: number[]
  skipped: Skipped[]
  replaced: ReplacedEntry[]
  aborted: { reason: string; message: string; oldPid: number | null; newPid: number | null } | null
  errorResistance: boolean
  untouched: number[]
  surplus: number
  durationMs: number
  message: string
  /** null with --no-preflight; `ran: false` when it was skipped (see `skipped`) */
  preflight: PreflightReport | null
  /** with --haproxy-socket: what the drain at HAProxy did (run/haproxy-around.ts) */
  haproxy?: HaproxyReport
  /** new workers that failed their check and still take requests (failing-workers.ts) */
  failing: FailingWorker[]
}

/** A report of a run that has not touched anything yet; `selected` are the pids it means to replace. */
export function baseReport(run: Pick<ChosenRun, 'resolved' | 'plan' | 'workers' | 'skipped'>, selected: number[]): RestartReport {
  return {
    ok: true,
    group: run.resolved.target.group,
    server: run.resolved.target.server,
    masterPid: run.resolved.target.masterPid,
    strategy: run.plan.strategy,
    batch: run.plan.batch,
    workers: run.workers.map((w) => w.pid),
    selected,
    skipped: run.skipped,
    replaced: [],
    aborted: null,
    errorResistance: false,
    untouched: [],
    surplus: 0,
    durationMs: 0,
    message: '',
    preflight: null,
    failing: [],
  }
}

/** What the roll did, into the report (not the message nor error-resistance mode). */
export function fillFromOutcome(report: RestartReport, outcome: RollOutcome): void {
  report.ok = outcome.ok
  report.replaced = replacedEntries(outcome)
  report.aborted = outcome.aborted
  report.untouched = outcome.untouched
  report.surplus = Math.max(0, outcome.surplus)
  report.durationMs = outcome.durationMs
  report.failing = failingWorkers(outcome)
}

/** The end of every message that leaves the group in error-resistance mode. */
export function inErrorResistance(group: string): string {
  return `Group '${group}' is now in error-resistance mode: later runs exit 5 until \`rolling-restart resume\`.`
}

/**
 * The report as the `report` log event at `level`, its message on the terminal (unless `progress` is
 * false), and on stdout with --json. A run drained at HAProxy ends its message with what HAProxy did.
 */
export function publish(run: Pick<RunStart, 'flags' | 'out'>, report: { message: string; haproxy?: HaproxyReport }, level: 'info' | 'warn' | 'error', progress = true): void {
  if (report.haproxy) report.message = `${report.message}\n${report.haproxy.message}`
  run.out.logger[level]({ event: 'report', ...report }, report.message)
  if (progress) run.out.progress(report.message)
  if (run.flags.json) printJson(report)
}

/**
 * End a run that left the group in error-resistance mode (recorded by the caller): the report
 * says so, headed by `headline` (by default what is recorded), and the run exits 4.
 */
export function reportErrorResistance(
  run: Pick<ChosenRun, 'flags' | 'out' | 'resolved'>,
  report: RestartReport,
  what: { reason: string; message: string; untouched: number[] },
  headline = what.message,
): ExitCode {
  report.ok = false
  report.errorResistance = true
  report.untouched = what.untouched
  if (!report.aborted) report.aborted = { reason: what.reason, message: what.message, oldPid: null, newPid: null }
  report.message = `${headline}\n${inErrorResistance(run.resolved.target.group)}`
  publish(run, report, 'error')
  return EXIT.ABORTED
}
