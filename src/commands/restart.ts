/**
 * `rolling-restart [restart]`: resolve -> lock -> check the group's mode -> select -> listen ->
 * preflight -> roll -> record -> report (see src/run/). Returns the exit code; never calls process.exit.
 */
import type { Command } from 'commander'
import type { ExitCode } from '../errors.js'
import { addHaproxyOptions, addPreflightOptions, addRecycleOption, addRollOptions, parseRestartFlags, type RestartFlags } from '../run/flags.js'
import { withGroupRun, withRunOutput } from '../run/group-run.js'
import { checkHaproxy, checkHaproxyFlags } from '../run/haproxy-gate.js'
import { restartSteps } from '../run/restart-run.js'
import { addOutputOptions, addTargetOptions } from './common.js'

export function addRestartOptions(cmd: Command): Command {
  addTargetOptions(cmd)
  addRollOptions(cmd)
  cmd
    .option('--older-than <duration>', 'only restart workers running longer than this (e.g. 12h)')
    .option('--rss-above <size>', 'only restart workers using more memory than this (e.g. 512M)')
    .option('--max-workers <k>', 'restart at most this many workers in this run')
  addRecycleOption(cmd)
  addPreflightOptions(cmd)
  addHaproxyOptions(cmd)
  return addOutputOptions(cmd)
}

export async function restartCommand(flags: RestartFlags, interrupt?: AbortSignal): Promise<ExitCode> {
  const plan = parseRestartFlags(flags)
  await checkHaproxyFlags(flags) // the --haproxy-* flags checked with the others, before any output opens
  return withRunOutput(flags, async (out) => {
    await checkHaproxy(flags, out)
    return withGroupRun({ flags, plan, out, interrupt }, restartSteps)
  })
}
