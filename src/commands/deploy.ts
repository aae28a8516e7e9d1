/**
 * `rolling-restart deploy --root DIR --release NAME` and `rolling-restart rollback --root DIR`:
 * check the release, then the deploy walk (src/run/deploy-run.ts) inside the group-run scaffold.
 * Returns the exit code; never calls process.exit.
 */
import type { Command } from 'commander'
import { parsePositiveInt } from '../config.js'
import type { ExitCode } from '../errors.js'
import { checkLayout, checkRelease, layoutOf, readCurrent, validateReleaseName } from '../release/layout.js'
import type { DeployAction, DeployFlags } from '../run/deploy-context.js'
import { deploySteps } from '../run/deploy-run.js'
import { addHaproxyOptions, addPreflightOptions, addRollOptions, parseRestartFlags } from '../run/flags.js'
import { withGroupRun, withRunOutput } from '../run/group-run.js'
import { checkHaproxy, checkHaproxyFlags } from '../run/haproxy-gate.js'
import { addOutputOptions, addTargetOptions } from './common.js'

export function addDeployOptions(cmd: Command, action: DeployAction): Command {
  addTargetOptions(cmd)
  cmd.requiredOption('--root <dir>', 'the directory holding releases/NAME and the current symlink')
  if (action === 'deploy') cmd.requiredOption('--release <name>', 'the release to deploy: a directory in ROOT/releases/')
  cmd.option('--keep <n>', `after a successful ${action}, remove the oldest releases that have been live so that n remain (never the live or the previous one; never one that was never live)`)
  addRollOptions(cmd)
  addPreflightOptions(cmd)
  addHaproxyOptions(cmd)
  return addOutputOptions(cmd)
}

export async function deployCommand(flags: DeployFlags, action: DeployAction, interrupt?: AbortSignal): Promise<ExitCode> {
  const plan = parseRestartFlags(flags)
  await checkHaproxyFlags(flags) // the --haproxy-* flags checked with the others, before any output opens
  const keep = flags.keep !== undefined ? parsePositiveInt('--keep', flags.keep, { min: 1, max: 10_000 }) : null
  const layout = layoutOf(flags.root as string)
  checkLayout(layout)
  if (action === 'deploy') {
    validateReleaseName('--release', flags.release as string)
    checkRelease(layout, flags.release as string)
  }
  return withRunOutput(flags, async (out) => {
    await checkHaproxy(flags, out)
    const start = { action, layout, keep, requested: action === 'deploy' ? (flags.release as string) : null, before: readCurrent(layout) }
    return withGroupRun({ flags, plan, out, interrupt }, deploySteps(start))
  })
}
