/**
 * One record per step, and pure queries over them, so the policy reads like prose and tests need
 * no processes.
 */
export type StepState = 'pending' | 'signaled' | 'exited' | 'awaiting-ready' | 'ready' | 'failed' | 'skipped'

export interface StepRecord {
  index: number
  /** the old worker this step replaces (surge: the one the master is expected to retire) */
  oldPid: number | null
  state: StepState
  newPid: number | null
  startedAt: number | null
  signaledAt: number | null
  exitedAt: number | null
  readyAt: number | null
  status: string | null
  release: string | null
  bootMs: number | null
  failure: string | null
}

export function newStep(index: number, oldPid: number | null): StepRecord {
  return {
    index,
    oldPid,
    state: 'pending',
    newPid: null,
    startedAt: null,
    signaledAt: null,
    exitedAt: null,
    readyAt: null,
    status: null,
    release: null,
    bootMs: null,
    failure: null,
  }
}

export const pending = (steps: readonly StepRecord[]) => steps.filter((s) => s.state === 'pending')
export const inFlight = (steps: readonly StepRecord[]) =>
  steps.filter((s) => s.state === 'signaled' || s.state === 'exited' || s.state === 'awaiting-ready')
export const done = (steps: readonly StepRecord[]) => steps.filter((s) => s.state === 'ready')
export const failed = (steps: readonly StepRecord[]) => steps.filter((s) => s.state === 'failed')

/** `2 / 4 ready, 1 in flight, 1 pending` */
export function progress(steps: readonly StepRecord[]): string {
  const parts = [`${done(steps).length} / ${steps.length} ready`]
  const f = inFlight(steps).length
  const p = pending(steps).length
  if (f) parts.push(`${f} in flight`)
  if (p) parts.push(`${p} pending`)
  const x = failed(steps).length
  if (x) parts.push(`${x} failed`)
  return parts.join(', ')
}

/** Time from the step's start (signal, or TTIN) to its replacement's readiness. */
export function readyMs(s: StepRecord): number | null {
  return s.readyAt !== null && s.startedAt !== null ? s.readyAt - s.startedAt : null
}
