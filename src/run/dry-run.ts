/**
 * `--dry-run`: the plan of a run, and nothing touched. It resolves the target and lists the
 * workers as a run would, reads (never writes) the state file, and prints which workers would be
 * signalled in what order, how, and what the preflight would load. No lock, no listener, no signal,
 * no file written.
 */
import { formatMs } from '../config.js'
import { EXIT, type ExitCode } from '../errors.js'
import { planPreflight } from '../preflight/plan.js'
import type { ProcInfo } from '../proc/procfs.js'
import { replaceVia, whySurgeRefused } from './replace-via.js'
import { stableWorkers } from '../roll/select.js'
import { readState, stateKey } from '../state/state-file.js'
import { printJson, stateDir } from '../commands/common.js'
import type { Chosen, GroupRunSteps, LockedRun, RunStart } from './group-run.js'
import { resolveForRun } from './guards.js'
import { learnedAppOf } from './preflight-step.js'

export interface DryRunReport {
  ok: true
  dryRun: true
  group: string
  server: string
  masterPid: number
  strategy: string
  /** how each step stops its old worker: a signal to it, or TTIN then TTOU to the master (which stops its oldest) */
  via: 'worker' | 'master'
  /** why not through the master, when it could retire the oldest workers (their keep-alive drain), or null */
  viaWhy: string | null
  batch: number
  workers: number[]
  /** in the order they would be signalled */
  selected: number[]
  skipped: Chosen['skipped']
  /** nothing is ever replaced by a dry run */
  replaced: []
  preflight:
    | { would: 'run'; spec: string; chdir: string; python: string }
    | { would: 'skip'; why: string; fix: string }
    | { would: 'not-needed'; why: string }
    | { would: 'off' }
  /** why the real run would be refused before touching anything, or null */
  refused: string | null
  /** the exit code of that refusal: 5 (error-resistance mode) or 2 (a surge that would cut the workers' drain) */
  refusedExit: number | null
  message: string
}

export async function dryRun<P>(start: RunStart, steps: GroupRunSteps<P>): Promise<ExitCode> {
  const dir = stateDir(start.flags)
  const resolved = await resolveForRun(start.flags, start.plan, start.out)
  const { target } = resolved
  const prior = readState(dir, stateKey(target.server, target.group))
  const locked: LockedRun = { ...start, dir, resolved, prior }
  const prepared = steps.prepare(locked)
  const workers = await stableWorkers(resolved, start.out)
  // the command's own "nothing to do" report is not printed: this report says it
  const quiet = { ...locked, flags: { ...locked.flags, json: false }, workers }
  const chosen = workers.length ? await steps.choose(quiet, prepared) : { selected: [], skipped: [] }
  const { selected, skipped } = typeof chosen === 'number' ? { selected: [] as ProcInfo[], skipped: [] } : chosen
  const via = replaceVia(start.plan.strategy, resolved.adapter, target, workers, selected)
  const errorResistance = prior?.errorResistance && !start.flags.force ? `the group is in error-resistance mode since ${prior.errorResistance.at}: ${prior.errorResistance.message}` : null
  const surge = errorResistance === null ? whySurgeRefused(start.plan.strategy, resolved.adapter, target, selected) : null
  const report: DryRunReport = {
    ok: true,
    dryRun: true,
    group: target.group,
    server: target.server,
    masterPid: target.masterPid,
    strategy: start.plan.strategy,
    via: via.via,
    viaWhy: via.why,
    batch: start.plan.batch,
    workers: workers.map((w) => w.pid),
    selected: selected.map((w) => w.pid),
    skipped,
    replaced: [],
    preflight: preflightPlan(locked, workers.length ? (steps.preflightNotNeeded?.(quiet, prepared) ?? null) : null),
    refused: errorResistance ?? surge,
    refusedExit: errorResistance !== null ? EXIT.REFUSED : surge !== null ? EXIT.USAGE : null,
    message: '',
  }
  report.message = describe(report, selected, target.description)
  if (start.flags.json) printJson(report)
  else process.stdout.write(report.message + '\n')
  return EXIT.OK
}

function preflightPlan(run: LockedRun, notNeeded: string | null): DryRunReport['preflight'] {
  const opts = run.plan.preflight
  if (opts === null) return { would: 'off' }
  if (notNeeded !== null) return { would: 'not-needed', why: notNeeded }
  const p = planPreflight(run.resolved.adapter, run.resolved.target, { ...opts, learned: learnedAppOf(run.prior) })
  if (p.kind === 'skip') return { would: 'skip', why: p.why, fix: p.fix }
  return { would: 'run', spec: p.invocation.spec, chdir: p.invocation.chdir, python: p.invocation.python }
}

function describe(r: DryRunReport, selected: readonly ProcInfo[], description: string): string {
  const now = Date.now()
  const lines = [`dry run: nothing will be touched. ${description}: ${r.workers.length} workers, strategy ${r.strategy}, batch ${r.batch}`]
  if (r.refused) lines.push(`a real run would be refused (exit ${r.refusedExit}): ${r.refused}`)
  lines.push(
    r.preflight.would === 'run'
      ? `preflight: would load ${r.preflight.spec} in ${r.preflight.chdir} with ${r.preflight.python}`
      : r.preflight.would === 'skip'
        ? `preflight: could not run: ${r.preflight.why}; a real run would be refused (exit 2): pass ${r.preflight.fix} or --no-preflight`
        : r.preflight.would === 'not-needed'
          ? `preflight: ${r.preflight.why.replace(/^preflight /, '')}`
          : 'preflight: off (--no-preflight)',
  )
  if (selected.length > 0 && r.strategy === 'replace') {
    lines.push(
      r.via === 'master'
        ? 'each step: TTIN then TTOU to the master, which stops its oldest worker (the next listed), so that its exit overlaps the boot of its replacement'
        : `each step: a graceful stop to the worker listed, then the READY of its replacement${r.viaWhy ? ` (not through the master: ${r.viaWhy})` : ''}`,
    )
  }
  if (selected.length === 0) lines.push('would signal no worker: none matches the selection')
  selected.forEach((w, i) => lines.push(`  ${i + 1}. worker ${w.pid}, up ${formatMs(now - w.startedAt)}`))
  for (const s of r.skipped) lines.push(`  left out: ${s.pid}: ${s.why}`)
  return lines.join('\n')
}
