/**
 * One scenario's figures, and the ratios that compare it: over the sum of the new workers' boot
 * times (1.00 is the floor one worker at a time) and over the hand-made loop's time in the same
 * run, with the same worker count.
 */
import type { ScenarioKind, ToolUsage, TriggerResult } from './scenarios.js'
import { round, type Bucket, type WindowStats } from './stats.js'

export interface RunSpec {
  kind: ScenarioKind
  label: string
  workers: number
  bootS: number
  batch: number
  steadyS: number
  afterS: number
}

export interface ScenarioResult {
  kind: ScenarioKind
  label: string
  workers: number
  bootS: number
  batch: number
  ok: boolean
  note: string | null
  exitCode: number | null
  /** trigger to the last new worker's READY, ms: from then on every worker serves the new code */
  readyMs: number
  /** trigger to complete, ms (the tool: to its exit, so Node's start-up and the last --min-ready window are in it) */
  exitMs: number
  /** trigger to the first signal, ms (the tool: Node's start-up, its checks, the preflight) */
  firstSignalMs: number
  /** the tool's own figure, from its report (excludes node's start-up) */
  toolDurationMs: number | null
  bootMs: number[]
  bootSumMs: number
  readyPerBoot: number | null
  exitPerBoot: number | null
  /** readyMs and exitMs over the hand-made loop's time (its last datagram) in the same run; null without a loop */
  readyPerLoop: number | null
  exitPerLoop: number | null
  tool: ToolUsage | null
  stats: WindowStats
  series: Bucket[]
}

export function scenarioResult(spec: RunSpec, r: TriggerResult, stats: WindowStats, series: Bucket[]): ScenarioResult {
  const bootSumMs = r.bootMs.reduce((a, b) => a + b, 0)
  const perBoot = (n: number) => (bootSumMs > 0 ? round(n / bootSumMs, 2) : null)
  const readyMs = r.readyAt - r.t0
  const exitMs = r.t1 - r.t0
  return {
    kind: spec.kind,
    label: spec.label,
    workers: spec.workers,
    bootS: spec.bootS,
    batch: spec.batch,
    ok: r.ok,
    note: r.note,
    exitCode: r.exitCode,
    readyMs,
    exitMs,
    firstSignalMs: r.firstSignalAt - r.t0,
    toolDurationMs: r.toolDurationMs,
    bootMs: r.bootMs,
    bootSumMs,
    readyPerBoot: perBoot(readyMs),
    exitPerBoot: perBoot(exitMs),
    readyPerLoop: null,
    exitPerLoop: null,
    tool: r.tool,
    stats,
    series,
  }
}

/** Fill in each result's time over the (good) hand-made loop's with the same worker count, boot time and batch 1. */
export function compareToLoop(results: ScenarioResult[]): void {
  for (const r of results) {
    const loop = results.find((l) => l.kind === 'loop' && l.ok && l.workers === r.workers && l.bootS === r.bootS)
    if (!loop || loop.exitMs <= 0) continue
    r.readyPerLoop = round(r.readyMs / loop.exitMs, 2)
    r.exitPerLoop = round(r.exitMs / loop.exitMs, 2)
  }
}
