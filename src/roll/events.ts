/**
 * What a run says as it goes: one event per transition. Logs, terminal progress, the state file
 * and the JSON report all subscribe to the same stream.
 */
export type RollEvent =
  | {
      event: 'run-start'
      group: string
      server: string
      masterPid: number
      strategy: string
      batch: number
      workers: number[]
      selected: number[]
      skipped: Array<{ pid: number; why: string }>
    }
  | { event: 'step-start'; step: number; total: number; oldPid: number | null; action: 'replace' | 'surge' }
  | { event: 'signal'; pid: number; signal: string; to: 'worker' | 'master'; outcome: string }
  | { event: 'exited'; pid: number; ms: number }
  | { event: 'spawned'; pid: number }
  | { event: 'datagram-ignored'; from: string; reason: string; detail: string; pid?: number | undefined }
  /** a datagram taken although its GROUP is not this group's name: its sender is a verified child of the master */
  | { event: 'group-mismatch'; pid: number; detail: string }
  | {
      event: 'ready'
      step: number
      total: number
      oldPid: number | null
      newPid: number | null
      ms: number
      status: string | null
      release: string | null
      bootMs: number | null
      /** the app spec the new worker reported (APP), for the next preflight */
      app?: string | null
    }
  | { event: 'retired'; pid: number; ms: number; why: string }
  | { event: 'abort'; reason: string; message: string; oldPid: number | null; newPid: number | null }
  | { event: 'run-end'; ok: boolean; replaced: number; durationMs: number }

export type EventName = RollEvent['event']
export type Emit = (e: RollEvent) => void
