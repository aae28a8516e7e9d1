/**
 * `rolling-restart resume`: leave error-resistance mode, once the operator has dealt with the cause.
 */
import { EXIT, type ExitCode } from '../errors.js'
import { resolveTarget } from '../servers/resolve.js'
import { acquireLock } from '../state/lock.js'
import { readState, stateKey, writeState } from '../state/state-file.js'
import { printJson, stateDir, targetOptions, type RawTargetFlags } from './common.js'

export interface ResumeFlags extends RawTargetFlags {
  json?: boolean
}

export async function resumeCommand(flags: ResumeFlags): Promise<ExitCode> {
  const { target } = await resolveTarget(targetOptions(flags))
  const dir = stateDir(flags)
  const key = stateKey(target.server, target.group)
  const lock = await acquireLock(dir, key, target.group)
  try {
    const state = readState(dir, key)
    const was = state?.errorResistance ?? null
    if (state && was) {
      state.errorResistance = null
      writeState(dir, state)
    }
    const message = was
      ? `group '${target.group}' left error-resistance mode (it was entered at ${was.at}: ${was.reason}); rolling restarts are allowed again`
      : `group '${target.group}' was not in error-resistance mode; nothing to do`
    if (flags.json) printJson({ ok: true, group: target.group, server: target.server, cleared: was })
    else process.stdout.write(message + '\n')
    return EXIT.OK
  } finally {
    lock.release()
  }
}
