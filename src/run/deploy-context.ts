/**
 * What a deploy or rollback knows as it runs, and the report it ends with: a restart report with
 * what happened to `current`.
 */
import type { RollOutcome } from '../roll/roller.js'
import type { CurrentLink, ReleaseLayout } from '../release/layout.js'
import type { ReleaseHistoryEntry, ReplacedEntry } from '../state/state-file.js'
import type { RestartFlags } from './flags.js'
import type { GroupRun } from './group-run.js'
import type { RestartReport } from './report.js'

export type DeployAction = 'deploy' | 'rollback'

export interface RollbackReport {
  ok: boolean
  /** where `current` points after the rollback */
  current: string | null
  replaced: ReplacedEntry[]
  aborted: RollOutcome['aborted']
  message: string
}

export interface DeployReport extends RestartReport {
  deploy: {
    action: DeployAction
    root: string
    release: string
    /** the release that was live before (what a failure goes back to) */
    previous: string | null
    /** `current` was pointed at the release by this run */
    swapped: boolean
    /** where `current` points at the end */
    current: string | null
    /** the new release failed and `current` was pointed back */
    rolledBack: boolean
    rollback: RollbackReport | null
    pruned: string[]
    pruneErrors: Array<{ release: string; error: string }>
  }
}

export interface DeployFlags extends RestartFlags {
  root?: string
  release?: string
  keep?: string
}

/** What a deploy knows before it resolves the group: its parsed flags and the layout as it was. */
export interface DeployStart {
  action: DeployAction
  layout: ReleaseLayout
  /** --release (deploy), null for a rollback */
  requested: string | null
  /** --keep, or null */
  keep: number | null
  /** where `current` pointed before this run */
  before: CurrentLink | null
}

/** What the deploy's own checks found under the lock: the release to go to. */
export interface DeployTarget {
  history: ReleaseHistoryEntry[]
  /** the release live before this run */
  live: string | null
  /** the release this run goes to */
  name: string
}

/** The deploy as it runs: the group run, the deploy's facts, and the report it fills in. */
export interface DeployRun extends GroupRun, DeployStart, DeployTarget {
  report: DeployReport
  /** when the run began rolling: the time of the history entry that records the release found live before it */
  startedAt: string
}
