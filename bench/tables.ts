/**
 * The bench's tables as text: the main scenarios, the scale runs and the start-up figures.
 */
import type { StartupFigures } from './startup.js'
import type { ScenarioResult } from './result.js'

export const ms = (n: number) => (n >= 10_000 ? `${(n / 1000).toFixed(1)}s` : n >= 1000 ? `${(n / 1000).toFixed(2)}s` : `${Math.round(n)}ms`)
const ratio = (x: number | null) => (x === null ? '-' : x.toFixed(2))

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? []
  return rows
    .map((r, ri) => {
      const line = r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ')
      return ri === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line
    })
    .join('\n')
}

/** to READY and to exit, each over Σboot and over the loop's time */
const timing = (r: ScenarioResult) => [ms(r.readyMs), ratio(r.readyPerBoot), ratio(r.readyPerLoop), ms(r.exitMs), ratio(r.exitPerBoot), ratio(r.exitPerLoop)]
const TIMING_HEAD = ['to READY', '/ Σboot', '/ loop', 'to exit', '/ Σboot', '/ loop']

export function mainTable(results: ScenarioResult[]): string {
  return table([
    ['scenario', 'served', 'failed', 'p50', 'p99', 'max', 'throughput', 'first signal', ...TIMING_HEAD, 'note'],
    ...results.map((r) => [
      r.label,
      String(r.stats.served),
      String(r.stats.failed),
      ms(r.stats.p50),
      ms(r.stats.p99),
      ms(r.stats.max),
      `${Math.round(r.stats.throughputRel * 100)}%`,
      ms(r.firstSignalMs),
      ...timing(r),
      r.ok ? '' : (r.note ?? 'failed'),
    ]),
  ])
}

export function scaleTable(results: ScenarioResult[]): string {
  return table([
    ['run', 'workers', 'batch', 'first signal', ...TIMING_HEAD, 'failed', 'p99', 'peak RSS', 'CPU', 'CPU / worker', 'note'],
    ...results.map((r) => [
      r.kind === 'loop' ? 'loop' : 'replace',
      String(r.workers),
      String(r.batch),
      ms(r.firstSignalMs),
      ...timing(r),
      String(r.stats.failed),
      ms(r.stats.p99),
      r.tool ? `${(r.tool.maxRssKb / 1024).toFixed(1)} MiB` : '-',
      r.tool ? `${r.tool.cpuSeconds.toFixed(2)} s` : '-',
      r.tool ? `${((r.tool.cpuSeconds / r.workers) * 1000).toFixed(0)} ms` : '-',
      r.ok ? '' : (r.note ?? 'failed'),
    ]),
  ])
}

/** The tool's CPU per worker beyond its fixed cost: the slope between the fewest and the most workers at batch 1. */
export function marginalCpuMs(results: ScenarioResult[]): number | null {
  const runs = results.filter((r) => r.kind !== 'loop' && r.batch === 1 && r.tool !== null).sort((a, b) => a.workers - b.workers)
  const lo = runs[0]
  const hi = runs[runs.length - 1]
  if (!lo?.tool || !hi?.tool || hi.workers === lo.workers) return null
  return Math.round(((hi.tool.cpuSeconds - lo.tool.cpuSeconds) / (hi.workers - lo.workers)) * 1000 * 10) / 10
}

export function startupLine(s: StartupFigures): string {
  const over = (n: number) => `${Math.round(n)} ms (node + ${Math.round(n - s.nodeMs)} ms)`
  return `Start-up, median of ${s.runs} runs each: node -e 0 ${Math.round(s.nodeMs)} ms; rolling-restart --version ${over(s.versionMs)}; --help ${over(s.helpMs)}`
}
