/**
 * A preflight's result in words, and in the JSON report. Pure.
 *
 * Two kinds of failure:
 *   'release'        the app was loaded and failed: it raised on import, its status page answered
 *                    non-2xx or raised, or it took longer than --preflight-timeout. No worker is
 *                    touched; the group enters error-resistance mode (exit 4).
 *   'could-not-run'  the preflight itself never started (no interpreter, hook not importable, no
 *                    permission). That says nothing about the release: exit 1, no mode change.
 */
import { formatMs } from '../config.js'
import type { PreflightPlan } from './plan.js'
import type { PreflightResult } from './run.js'

export interface PreflightReport {
  /** the preflight ran; false when it was not needed (`skipped` says why). One that cannot be planned refuses the run, exit 2 */
  ran: boolean
  /** true: 2xx; false: failed or could not run */
  ok: boolean | null
  status: string | null
  release: string | null
  root: string | null
  durationMs: number
  spec: string | null
  chdir: string | null
  python: string | null
  exitCode: number | null
  skipped: string | null
}

export interface PreflightVerdict {
  report: PreflightReport
  failure: { kind: 'release' | 'could-not-run'; message: string } | null
}

/** The report of a preflight that was not needed: `why` says so. */
export function skippedReport(why: string): PreflightReport {
  return { ran: false, ok: null, status: null, release: null, root: null, durationMs: 0, spec: null, chdir: null, python: null, exitCode: null, skipped: why }
}

export function preflightVerdict(plan: Extract<PreflightPlan, { kind: 'run' }>, r: PreflightResult): PreflightVerdict {
  const inv = plan.invocation
  const report: PreflightReport = {
    ran: true,
    ok: r.ok,
    status: r.fields?.status ?? null,
    release: r.fields?.release ?? null,
    root: r.fields?.root ?? null,
    durationMs: r.durationMs,
    spec: inv.spec,
    chdir: inv.chdir,
    python: inv.python,
    exitCode: r.exitCode,
    skipped: null,
  }
  if (r.ok) return { report, failure: null }
  const what = `the preflight of ${inv.spec} in ${inv.chdir} (${inv.python})`
  const trace = r.stderrTail.length ? `; last lines of its output:\n    ${r.stderrTail.join('\n    ')}` : ''
  if (r.timedOut) {
    return {
      report,
      failure: {
        kind: 'release',
        message: `${what} did not finish within ${formatMs(inv.timeoutMs)} (--preflight-timeout): importing the app or its status page hangs${trace}`,
      },
    }
  }
  if (!r.started) {
    const why = r.spawnError
      ? `could not start ${inv.python}: ${r.spawnError}`
      : `exited with ${r.exitCode !== null ? `code ${r.exitCode}` : `signal ${r.signal}`} before giving a verdict`
    return {
      report,
      failure: {
        kind: 'could-not-run',
        message:
          `${what} ${why}${trace}. This says nothing about the release; no worker was touched. ` +
          'Check the interpreter (--preflight-python PATH) and that the hook package is importable, or skip the check with --no-preflight',
      },
    }
  }
  const status = r.fields?.status ?? 'no STATUS'
  const kind = r.exitCode === 2 ? 'could not load the app' : 'loaded the app, but its status page failed'
  return {
    report,
    failure: { kind: 'release', message: `${what} ${kind}: STATUS=${status}${trace}` },
  }
}
