/**
 * What `status` reports of a group, as its JSON shows it: the mode, the master, the memory, the
 * listen addresses, and each worker with its release, role, requests and slot replacements.
 */
import type { GroupMemory } from '../proc/memory.js'
import type { ListenReport } from '../proc/listen-sockets.js'
import type { FailingWorker } from '../run/failing-workers.js'
import type { GroupState } from '../state/state-file.js'

export type WorkerRole = 'old' | 'new' | 'failed' | 'being replaced' | 'booting'

export type GroupMode = 'never rolled' | 'normal' | 'rolling' | 'interrupted' | 'error-resistance'

export interface StatusWorker {
  pid: number
  uptimeMs: number
  cpuPercent: number | null
  rssBytes: number | null
  release: string | null
  /** it reported PRELOAD=1: it runs its master's code, not what is on disk */
  preloaded: boolean
  role: WorkerRole
  /** requests it has served, where the server exposes that (uWSGI's stats server); null otherwise (`requests.why` says why) */
  requests?: number | null
  /** how many times its slot was replaced by this tool (state/slots.ts) */
  replacements?: number
}

export interface MasterStatus {
  pid: number
  uptimeMs: number | null
  rssBytes: number | null
  pssBytes: number | null
}

export interface StatusReport {
  group: string
  server: string
  masterPid: number
  mode: GroupMode
  /** `step 2 of 4` while rolling; the reason in error-resistance mode */
  detail: string | null
  errorResistance: GroupState['errorResistance']
  surplus: number
  workers: StatusWorker[]
  lastRun: GroupState['runs'][number] | null
  /** the master's own uptime and memory (for mod_wsgi: Apache's parent process) */
  master?: MasterStatus
  /** master + workers */
  memory?: GroupMemory | null
  /** what the master listens on, or why that cannot be read */
  listen?: ListenReport
  /** where the workers' request counts come from, or why there are none */
  requests?: { from: string } | { why: string }
  /** workers this tool replaced over the runs the state file keeps (the last 20) */
  replaced?: { total: number; runs: number }
  /** listing every group: why this group's master was not found */
  gone?: string
  /** listing every group: found running, but it cannot be shown as a group (what resolve said) */
  problem?: string
  /** new workers that failed their check and take requests with the broken release */
  failing?: FailingWorker[]
  /** what they are and what to do, in words (null when none) */
  attention?: string | null
}
