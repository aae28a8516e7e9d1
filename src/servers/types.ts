/**
 * What the roller needs from a server: find the group, list its workers, signal them, and explain
 * failures in the server's own terms. One adapter per server, same interface.
 */
import type { ServerKind } from '../config.js'
import type { ProcInfo } from '../proc/procfs.js'
import type { Readiness } from '../readiness/protocol.js'

export interface TargetOptions {
  group?: string | undefined
  pidfile?: string | undefined
  master?: number | undefined
  /** mod_wsgi: which Apache, where several run */
  apachePidfile?: string | undefined
  server: ServerKind | 'auto'
}

export interface Target {
  server: ServerKind
  /** the group's name: Gunicorn proc_name, mod_wsgi process group, uWSGI procname; the state file's key */
  group: string
  /** the process whose children the workers are (Gunicorn arbiter, Apache parent, uWSGI master) */
  masterPid: number
  masterStartTicks: number
  /** for messages: `Gunicorn master 1234 [app:blue]` */
  description: string
  /** how the target was found, for the log */
  via: 'group' | 'pidfile' | 'master'
  /** adapter-specific facts (e.g. the mod_wsgi display-name prefix) */
  meta: Record<string, unknown>
}

export interface Hazard {
  /** short, stable identifier (`preload-app`, `no-display-name`, ...) */
  id: string
  /** what is wrong, with the values */
  message: string
  /** what to do about it */
  fix: string
  /** 'error': a rolling restart would not work or not be safe; 'warning': worth knowing */
  severity: 'error' | 'warning'
}

export interface ServerAdapter {
  readonly kind: ServerKind
  /** for messages: `Gunicorn`, `Apache mod_wsgi`, `uWSGI` */
  readonly label: string
  /** the graceful stop for one worker: it finishes its requests and exits, the master starts another */
  readonly stopSignal: NodeJS.Signals
  /** whether the master can run one extra worker on request (Gunicorn TTIN/TTOU) */
  readonly canSurge: boolean

  /** Find the target, or return null when these options do not designate a server of this kind. Throws TargetError for a stale pidfile and the like. */
  resolve(opts: TargetOptions): Target | null

  /** The group's live workers now, oldest first. */
  workers(target: Target): ProcInfo[]

  /** Ask the master for one more worker (surge). */
  surgeUp?(target: Target): void
  /** Ask the master for one fewer worker: it stops its oldest one. */
  surgeDown?(target: Target): void

  /** Why the master may have exited, in the server's terms. */
  masterGoneHint(target: Target): string
  /** Why a restarted worker may not have sent its datagram. */
  noReadyHint(target: Target): string
  /** Why a new worker may report an old release. */
  wrongReleaseHint(target: Target): string

  /** What would make a rolling restart unsafe here (for `doctor` and warnings at start). */
  hazards?(target: Target): Hazard[]

  /** Accept a readiness datagram's GROUP field for this target (null GROUP is accepted). */
  groupMatches?(target: Target, r: Readiness): boolean
}
