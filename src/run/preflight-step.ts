/**
 * The preflight step of a run: load the app in a throwaway interpreter, the way the workers will,
 * before the first worker is touched.
 */
import { formatMs } from '../config.js'
import { EXIT, Interrupted, RollingRestartError, UsageError } from '../errors.js'
import { planPreflight, type PreflightOptions, type ReleaseUnderTest } from '../preflight/plan.js'
import { runPreflight } from '../preflight/run.js'
import { preflightVerdict, type PreflightVerdict } from '../preflight/verdict.js'
import type { GroupState } from '../state/state-file.js'
import type { LockedRun } from './group-run.js'

/** The app spec a worker of this group reported (APP=) in an earlier run, kept in the state file. */
export function learnedAppOf(state: GroupState | null): PreflightOptions['learned'] {
  const app = state?.extra.app as { spec?: unknown; reportedBy?: unknown; at?: unknown } | undefined
  return typeof app?.spec === 'string' ? { spec: app.spec, from: `reported by worker ${String(app.reportedBy)} (APP=) at ${String(app.at)}` } : undefined
}

/**
 * Load the app in a throwaway interpreter, the way the workers will. null with --no-preflight.
 * When what the workers load cannot be known (no app spec, no interpreter), the run is refused
 * before any worker is touched, exit 2, naming the flag that says it and --no-preflight: a first
 * run is exactly when an unchecked release would take the site down. `release`: a deploy's new release.
 */
export async function preflightStep(run: Pick<LockedRun, 'resolved' | 'plan' | 'out' | 'interrupt' | 'prior'>, release?: ReleaseUnderTest): Promise<PreflightVerdict | null> {
  const { resolved, plan, out, interrupt } = run
  if (plan.preflight === null) {
    out.logger.info({ event: 'preflight-off' }, 'preflight off (--no-preflight)')
    return null
  }
  const p = planPreflight(resolved.adapter, resolved.target, { ...plan.preflight, learned: learnedAppOf(run.prior) }, release)
  if (p.kind === 'skip') {
    out.logger.error({ event: 'preflight-unknown', why: p.why }, `cannot run the preflight: ${p.why}`)
    throw new UsageError(
      `cannot run the preflight, so no worker was touched: ${p.why}. ` +
        `Pass ${p.fix} to say what the workers load, or --no-preflight to roll without loading the new code first`,
      'preflight-unknown',
    )
  }
  const inv = p.invocation
  out.logger.info({ event: 'preflight-start', spec: inv.spec, chdir: inv.chdir, python: inv.python, uid: inv.uid, sources: p.sources }, `preflight: loading ${inv.spec} in ${inv.chdir}`)
  out.progress(`preflight: loading ${inv.spec} in ${inv.chdir} with ${inv.python} ...`)
  const verdict = preflightVerdict(p, await runPreflight(inv, interrupt))
  if (interrupt?.aborted) {
    out.logger.warn({ event: 'preflight-interrupted' }, 'interrupted during the preflight; nothing was touched')
    throw new Interrupted('interrupted during the preflight; no worker was touched')
  }
  const r = verdict.report
  if (verdict.failure) {
    out.logger.error({ event: 'preflight-failed', ...r, kind: verdict.failure.kind }, verdict.failure.message)
  } else {
    const line = `preflight ok: ${r.status} in ${formatMs(r.durationMs)}` + (r.release ? ` (release ${r.release})` : '')
    out.logger.info({ event: 'preflight-ok', ...r }, line)
    out.progress(line)
  }
  return verdict
}

/**
 * Why the release failed its preflight, or null when it passed (or none ran). A preflight that
 * could not even run is not the release's fault: exit 1, and error-resistance mode is left alone.
 */
export function preflightFailed(verdict: PreflightVerdict | null): string | null {
  const failure = verdict?.failure
  if (!failure) return null
  if (failure.kind === 'could-not-run') throw new RollingRestartError(failure.message, EXIT.INTERNAL, 'preflight-error')
  return failure.message
}
