/**
 * Options shared by the commands that act on a group, and their validation.
 */
import { readFileSync } from 'node:fs'
import type { Command } from 'commander'
import { DEFAULTS, SERVER_KINDS, parseChoice, parseNotify, parsePid, type NotifyAddress, type ServerKind } from '../config.js'
import { UsageError, errnoCode } from '../errors.js'
import { secretFromFileContent } from '../readiness/protocol.js'
import type { TargetOptions } from '../servers/types.js'
import type { LogFormat, Verbosity } from '../output/logger.js'

export interface RawTargetFlags {
  group?: string
  pidfile?: string
  master?: string
  apachePidfile?: string
  server?: string
  stateDir?: string
}

export function addTargetOptions(cmd: Command): Command {
  return cmd
    .option('-g, --group <name>', 'the group: Gunicorn proc_name, Uvicorn app spec (main:app), mod_wsgi process group (app:blue), uWSGI procname')
    .option('-p, --pidfile <file>', "the master's pidfile (Gunicorn pidfile, uWSGI pidfile, Apache PidFile)")
    .option('-m, --master <pid>', "the master's process id")
    .option('--apache-pidfile <file>', 'mod_wsgi: which Apache to look under, where several run')
    .option('--server <kind>', `auto, ${SERVER_KINDS.join(', ')}`, 'auto')
    .option('--state-dir <dir>', `where group state and locks live (env ROLLING_RESTART_STATE_DIR; default ${DEFAULTS.stateDir})`)
}

export function addOutputOptions(cmd: Command): Command {
  return cmd
    .option('--json', 'print one JSON report on stdout')
    .option('--log-file <file>', 'append JSON logs to this file instead of stderr')
    .option('--log-format <format>', 'stderr logs: auto (text on a terminal, JSON otherwise), json, text', 'auto')
    .option('-q, --quiet', 'only warnings and errors (log level warn; no progress lines)')
    .option('-v, --verbose', 'every event, also those progress leaves out (log level debug)')
}

export function targetOptions(raw: RawTargetFlags): TargetOptions {
  return {
    group: raw.group,
    pidfile: raw.pidfile,
    master: raw.master !== undefined ? parsePid('--master', raw.master) : undefined,
    apachePidfile: raw.apachePidfile,
    server: parseChoice('--server', raw.server ?? 'auto', ['auto', ...SERVER_KINDS] as const) as ServerKind | 'auto',
  }
}

export function stateDir(raw: RawTargetFlags): string {
  return raw.stateDir ?? process.env.ROLLING_RESTART_STATE_DIR ?? DEFAULTS.stateDir
}

export interface OutputFlags {
  logFile?: string | undefined
  logFormat?: string | undefined
  quiet?: boolean | undefined
  verbose?: boolean | undefined
}

/** What createOutput() needs, from the output flags: --quiet and --verbose exclude each other. */
export function outputOptions(f: OutputFlags): { logFile: string | undefined; format: LogFormat; verbosity: Verbosity } {
  if (f.quiet && f.verbose) throw new UsageError('--quiet and --verbose exclude each other: give one of them')
  return { logFile: f.logFile, format: logFormat(f.logFormat), verbosity: f.quiet ? 'quiet' : f.verbose ? 'verbose' : 'normal' }
}

export function logFormat(value: string | undefined): LogFormat {
  return parseChoice('--log-format', value ?? 'auto', ['auto', 'json', 'text'] as const)
}

export function notifyAddress(value: string | undefined): NotifyAddress {
  if (value !== undefined) return parseNotify('--notify', value)
  const env = process.env.ROLLING_RESTART_NOTIFY
  if (env && env.toLowerCase() !== 'off') return parseNotify('ROLLING_RESTART_NOTIFY', env)
  return parseNotify('--notify', DEFAULTS.notify)
}

/** The HMAC key from --secret-file or ROLLING_RESTART_SECRET_FILE, or null when neither is set. */
export function loadSecret(flagValue: string | undefined): Buffer | null {
  const path = flagValue ?? process.env.ROLLING_RESTART_SECRET_FILE
  const flag = flagValue !== undefined ? '--secret-file' : 'ROLLING_RESTART_SECRET_FILE'
  if (!path) return null
  let content: Buffer
  try {
    content = readFileSync(path)
  } catch (err) {
    throw new UsageError(`${flag} ${path}: cannot read it (${errnoCode(err)}); give a readable file holding the shared secret`)
  }
  const key = secretFromFileContent(content)
  if (key.length === 0) throw new UsageError(`${flag} ${path} is empty: put the shared secret in it (the same file the hook reads)`)
  return key
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n')
}
