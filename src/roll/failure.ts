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
