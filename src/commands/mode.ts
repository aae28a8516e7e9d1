/**
 * `rolling-restart mode maintenance|read-only|normal --mode-file FILE`: write the file that
 * `rolling_restart_hook.modes.ModeMiddleware` reads at each request, by rename, so every worker
 * changes mode at its next request without a restart.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Command } from 'commander'
import { EXIT, TargetError, UsageError, errnoCode, type ExitCode } from '../errors.js'
import { parseModeFile, parseModeName, parseRetryAfter, renderModeFile, type Mode } from '../switch/mode-file.js'
import { replaceFile, statOrNull } from '../switch/replace-file.js'
import { requireDirectory } from '../switch/routing-file.js'
import { printJson } from './common.js'

export interface ModeFlags {
  modeFile?: string
  retryAfter?: string
  json?: boolean
}

export function addModeOptions(cmd: Command): Command {
  return cmd
    .argument('<mode>', 'maintenance (503 for everything but the status page), read-only (503 for POST, PUT, PATCH, DELETE) or normal')
    .option('--mode-file <file>', 'the file ModeMiddleware reads (env ROLLING_RESTART_MODE_FILE, as in the app)')
    .option('--retry-after <seconds>', 'the Retry-After header of the 503 answers (the middleware defaults to 60)')
    .option('--json', 'print one JSON report on stdout')
}

export interface ModePlan {
  mode: Mode
  file: string
  /** the flag (or variable) that named the file, for messages */
  fileFlag: string
  retryAfter: number | null
}

export function parseModeFlags(modeArg: string, f: ModeFlags, env: NodeJS.ProcessEnv = process.env): ModePlan {
  const mode = parseModeName(modeArg)
  const given = f.modeFile ?? env.ROLLING_RESTART_MODE_FILE
  const fileFlag = f.modeFile !== undefined ? '--mode-file' : 'ROLLING_RESTART_MODE_FILE'
  if (given === undefined || given.trim() === '') {
    throw new UsageError(
      'say which mode file the application reads: --mode-file FILE (the file given to ModeMiddleware, or its ROLLING_RESTART_MODE_FILE)',
    )
  }
  if (given.endsWith('/')) throw new UsageError(`${fileFlag} ${given} is a directory path: give the path of the mode file itself`)
  const retryAfter = f.retryAfter !== undefined ? parseRetryAfter('--retry-after', f.retryAfter) : null
  if (retryAfter !== null && mode === 'normal') {
    throw new UsageError(`--retry-after ${f.retryAfter} has no effect in normal mode (nothing is refused): drop it, or use maintenance or read-only`)
  }
  return { mode, file: resolve(given), fileFlag, retryAfter }
}

export interface ModeReport {
  ok: boolean
  file: string
  mode: Mode
  previous: Mode | null
  retryAfter: number
  inode: number
  message: string
}

export async function modeCommand(modeArg: string, flags: ModeFlags): Promise<ExitCode> {
  const plan = parseModeFlags(modeArg, flags)
  requireDirectory(plan.fileFlag, plan.file)
  let previous: Mode | null = null
  if (statOrNull(plan.file, plan.fileFlag)) {
    try {
      previous = parseModeFile(readFileSync(plan.file, 'utf8')).mode
    } catch (err) {
      throw new TargetError(`${plan.fileFlag} ${plan.file}: cannot read it (${errnoCode(err)})`, 'denied')
    }
  } else {
    previous = 'normal' // no file: the middleware serves normally
  }
  const replaced = replaceFile(plan.file, renderModeFile(plan.mode, plan.retryAfter), { flag: plan.fileFlag })
  const retryAfter = parseModeFile(renderModeFile(plan.mode, plan.retryAfter)).retryAfter
  const what =
    plan.mode === 'maintenance'
      ? `every request but the status page gets 503 with Retry-After: ${retryAfter}`
      : plan.mode === 'read-only'
        ? `GET, HEAD and OPTIONS are served; POST, PUT, PATCH and DELETE get 503 with Retry-After: ${retryAfter}`
        : 'every request is served'
  const report: ModeReport = {
    ok: true,
    file: plan.file,
    mode: plan.mode,
    previous,
    retryAfter,
    inode: replaced.inode,
    message:
      `mode ${plan.mode} (was ${previous}) written to ${plan.file}: ${what}. ` +
      'Each worker with ModeMiddleware sees it at its next request; nothing is restarted.',
  }
  if (flags.json) printJson(report)
  else process.stdout.write(report.message + '\n')
  return EXIT.OK
}
