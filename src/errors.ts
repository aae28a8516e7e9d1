/**
 * Exit codes are the CLI's API: deploy hooks and cron branch on them.
 * Every error the program raises on purpose carries its own.
 */
export const EXIT = {
  /** every selected worker replaced and ready (or nothing needed doing) */
  OK: 0,
  /** a bug or an unexpected environment failure */
  INTERNAL: 1,
  /** bad usage or bad input: fix the command line */
  USAGE: 2,
  /** target not found or not permitted: no such group, stale pidfile, cannot signal */
  TARGET: 3,
  /** a step failed: the run stopped and the group is in error-resistance mode */
  ABORTED: 4,
  /** refused: the group is in error-resistance mode, or another run holds the lock */
  REFUSED: 5,
  /** `doctor` found a hazard of severity error (warnings alone exit 0) */
  HAZARDS: 6,
  /** the master replaced its workers on its own during the run (HUP, USR2, a graceful reload): stopped; not error-resistance mode */
  RELOADED: 7,
  /** stopped by SIGINT / SIGTERM (128 + SIGINT, as a shell reports it); not error-resistance mode */
  INTERRUPTED: 130,
} as const

export type ExitCode = (typeof EXIT)[keyof typeof EXIT]

export class RollingRestartError extends Error {
  readonly exitCode: ExitCode
  /** machine-readable reason, used in logs and the JSON report */
  readonly code: string
  constructor(message: string, exitCode: ExitCode, code: string) {
    super(message)
    this.name = new.target.name
    this.exitCode = exitCode
    this.code = code
  }
}

/** A RollingRestartError with its exit code fixed and a default reason: `new UsageError(message, code?)`. */
function withExitCode(exitCode: ExitCode, defaultCode: string) {
  return class extends RollingRestartError {
    constructor(message: string, code = defaultCode) {
      super(message, exitCode, code)
    }
  }
}

/** The command line or an input file is wrong. The message names the flag, the value and the fix. */
export class UsageError extends withExitCode(EXIT.USAGE, 'usage') {}

/** The group, master or pidfile does not exist, or we may not signal it. */
export class TargetError extends withExitCode(EXIT.TARGET, 'target') {}

/** The run would be unsafe or is not allowed now: error-resistance mode, lock held, port taken. */
export class RefusedError extends withExitCode(EXIT.REFUSED, 'refused') {}

/** Ctrl-C / SIGTERM before any worker was touched: exit 130, nothing recorded against the group. */
export class Interrupted extends withExitCode(EXIT.INTERRUPTED, 'interrupted') {}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/** The `code` of a Node system error (`ENOENT`, `EACCES`, `ECONNRESET`), or undefined when it has none. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined
  return typeof err.code === 'string' ? err.code : undefined
}
