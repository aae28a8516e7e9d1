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
  | { event: 'step-start'; step: number; total: number; oldPid: number | null; action: 'replace' | 'surge'; via?: 'worker' | 'master' | undefined }
  /** `tick`: the boot-relative clock just before kill(2), in /proc start-time ticks */
  /** `step`: the step a master signal is for (TTIN, TTOU); none for a hand-back of an earlier surplus */
  | { event: 'signal'; pid: number; signal: string; to: 'worker' | 'master'; outcome: string; step?: number | undefined; tick?: number | undefined }
  | { event: 'exited'; pid: number; ms: number }
  | { event: 'spawned'; pid: number; startTicks: number }
  /** what made the master start a new worker: a step's signal, or the exit of a worker this run did not stop */
  | { event: 'credited'; pid: number; startTicks: number; step: number | null; respawnOf: number | null }
  /** replace: the step's old worker exited on its own before its signal; the master's respawn of it is the step's replacement */
  | { event: 'adopted'; step: number; oldPid: number }
  /** a worker gone that this run did not stop (max-requests recycling, a crash) */
  | { event: 'worker-gone'; pid: number; detail: string }
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
      /** the new worker's /proc start tick: with the step's signal tick, proof it was forked after the signal */
      startTicks?: number | null
      /** --recycle: it reported PRELOAD=1 and runs the master's code (release is null) */
      preload?: boolean
      /** the app spec the new worker reported (APP), for the next preflight */
      app?: string | null
      /** the hook version the new worker reported (HOOK); null: none, an old hook; absent: a bare datagram */
      hookVersion?: string | null
      /** the old worker of the step that starts as soon as this one ends (policy startsNext); null: none at once */
      next?: number | null
    }
  | { event: 'retired'; pid: number; ms: number; why: string }
  /** every step done: the run ends once these new workers have been up for --min-ready (`ms` from now) */
  | { event: 'settling'; pids: number[]; ms: number }
  | { event: 'abort'; reason: string; message: string; oldPid: number | null; newPid: number | null }
  | { event: 'run-end'; ok: boolean; replaced: number; durationMs: number }

export type EventName = RollEvent['event']
export type Emit = (e: RollEvent) => void
