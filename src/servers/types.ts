/**
 * What the roller needs from a server: find the group, list its workers, signal them, and explain
 * failures in the server's own terms. One adapter per server, same interface.
 */
import type { ServerKind } from '../config.js'
import type { ProcInfo } from '../proc/procfs.js'
import type { Readiness } from '../readiness/protocol.js'
import type { ExitEvidence, LogMark } from './shared/master-log.js'

export interface TargetOptions {
  group?: string | undefined
  pidfile?: string | undefined
  master?: number | undefined
  /** mod_wsgi: which Apache, where several run */
  apachePidfile?: string | undefined
  server: ServerKind | 'auto'
  /** --server-config FILE: the server's config file, for preflight and doctor when the master's command line is hidden */
  configFile?: string | undefined
}

export interface Target {
  server: ServerKind
  /** the group's name: Gunicorn proc_name, Uvicorn app spec or ROLLING_RESTART_GROUP, mod_wsgi process group, uWSGI procname; the state file's key */
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

/**
 * How the server loads the application, so `rolling-restart` can load it the same way in a throwaway
 * interpreter before touching any worker (python -m rolling_restart_hook.preflight).
 */
export interface AppSpec {
  /** `module:callable`, `module`, or a `.wsgi`/`.py` script path; null when it cannot be found (then `why` says so) */
  spec: string | null
  /** the directory the server imports the app from (Gunicorn chdir, uWSGI chdir); default the master's cwd */
  chdir?: string | undefined
  /** extra import paths the server adds (Gunicorn pythonpath, mod_wsgi python-path, uWSGI pythonpath) */
  pythonpath?: string[] | undefined
  /** variables the server sets for the app itself (Gunicorn raw_env, uWSGI env) */
  env?: Record<string, string> | undefined
  /** the Python interpreter, when the master's own executable is not it (Apache: the python-home's bin/python) */
  python?: string | undefined
  /** for the log: where the spec was found (`command line`, `config file /etc/gunicorn.conf.py`) */
  from?: string | undefined
  /** why `spec` (or anything else) could not be found, and how to supply it */
  why?: string | undefined
}

/** What the caller knows that the process table does not say. */
export interface HazardContext {
  /** deploy/doctor --root: the directory holding releases/ and the current symlink */
  releaseRoot?: string | undefined
  /** a run asks, before it acts: what the run decides and logs on its own (how it retires draining workers) is left out */
  forRun?: boolean | undefined
}

/** Requests served per worker, where the server exposes them; where it does not, why. */
export type RequestCounts = { byPid: Record<string, number>; from: string } | { byPid: null; why: string }

export interface ServerAdapter {
  readonly kind: ServerKind
  /** for messages: `Gunicorn`, `Apache mod_wsgi`, `uWSGI` */
  readonly label: string
  /** the graceful stop for one worker: it finishes its requests and exits, the master starts another */
  readonly stopSignal: NodeJS.Signals
  /** whether the master can run one extra worker on request (Gunicorn TTIN/TTOU) */
  readonly canSurge: boolean
  /** why not, when the usual reason (a process count fixed by the configuration) is not it */
  readonly noSurgeReason?: string

  /** Find the target, or return null when these options do not designate a server of this kind. Throws TargetError for a stale pidfile and the like. */
  resolve(opts: TargetOptions): Target | null

  /**
   * The target options that name each group of this server running among `procs` (one scan of the
   * host's processes), for `status` without a target; each is then resolved with `resolve`.
   */
  findAll?(procs: readonly ProcInfo[]): TargetOptions[]

  /** The group's live workers now, oldest first. */
  workers(target: Target): ProcInfo[]

  /**
   * Of these live children of target.masterPid, the workers (workers() is this over every child).
   * The roll asks it of the new children only, so that a fork costs one look at the new process,
   * not at every worker (roll/look.ts); without it, every look is a whole workers().
   */
  workersAmong?(target: Target, children: readonly ProcInfo[]): ProcInfo[]

  /**
   * Why this worker must not be signalled yet, or null when it may be. uWSGI: a worker that has
   * not finished booting still has the master's signal handlers, so its stop signal would reach
   * the master's handler and stop a different worker.
   */
  stillBooting?(target: Target, worker: ProcInfo): string | null

  /** Why nothing matched these target options, in the server's words (for the not-found error), or null. */
  notFoundHint?(opts: TargetOptions): string | null

  /** Ask the master for one more worker (surge). */
  surgeUp?(target: Target): void
  /** Ask the master for one fewer worker: it stops its oldest one. */
  surgeDown?(target: Target): void
  /**
   * Why the master must not retire `retiring` (TTOU) for this group, or null when it may: their
   * workers drain on TERM, the master repeats the TERM of a worker it retires, and a hook that
   * does not say it keeps draining then stops at once
   */
  whyNotThroughMaster?(target: Target, retiring: readonly { pid: number }[]): string | null

  /** Why the master may have exited, in the server's terms. */
  masterGoneHint(target: Target): string
  /** Why a restarted worker may not have sent its datagram. */
  noReadyHint(target: Target): string
  /** Why a new worker may report an old release. */
  wrongReleaseHint(target: Target): string

  /** What would make a rolling restart unsafe here (for `doctor` and warnings at start). */
  hazards?(target: Target, ctx?: HazardContext): Hazard[]

  /** How the group loads its application, for the preflight; null when the adapter cannot tell at all. */
  appSpec?(target: Target): AppSpec | null

  /** Accept a readiness datagram's GROUP field for this target (null GROUP is accepted). Advisory: a mismatch is warned of. */
  groupMatches?(target: Target, r: Readiness): boolean

  /** What the server's log says about how worker `pid` ended (a crash, or a recycle such as max-requests); null when it says nothing. */
  exitEvidence?(target: Target, pid: number): ExitEvidence | null

  /** Where the master's log ends now, so a run can read what the server logs during it; null when there is no readable log. */
  logMark?(target: Target): LogMark | null
  /** A line the server logged since `mark` (which moves on) saying the master reloads its workers on its own (HUP, USR2...), or null. */
  reloadSince?(target: Target, mark: LogMark): string | null
  /** Requests served by each worker, read where the server exposes them cheaply (uWSGI's stats server); else why not. */
  requestCounts?(target: Target): Promise<RequestCounts>

  /** The line of the server's log saying the master was told to stop (its workers then exit with it), or null. */
  stopping?(target: Target): string | null
}
