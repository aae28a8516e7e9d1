/**
 * How a step ends early: a StepFailure carries its abort reason, the message, and the new worker it
 * concerns, if known. Anything else thrown is an internal error.
 */
import { errorMessage } from '../errors.js'
import type { AbortReason } from './types.js'

export class StepFailure extends Error {
  constructor(
    readonly reason: AbortReason,
    message: string,
    readonly newPid: number | null = null,
    /** the old worker of the step at fault, when it is not the step that noticed (a replacement that died after READY) */
    readonly oldPid: number | null = null,
  ) {
    super(message)
  }
}

export function asFailure(err: unknown): StepFailure {
  return err instanceof StepFailure ? err : new StepFailure('internal', errorMessage(err))
}

/**
 * Why the run's abort signal fired: the StepFailure it was aborted with (the state file could not
 * be written), else Ctrl-C / SIGTERM to rolling-restart.
 */
export function interruption(reason: unknown): StepFailure {
  return reason instanceof StepFailure ? reason : new StepFailure('interrupted', 'interrupted by a signal to rolling-restart; no further worker was touched')
}
