/**
 * The flags of a run that rolls workers (restart, deploy, rollback) and their validation: every
 * flag is checked before anything is looked up or touched.
 */
import type { Command } from 'commander'
import { DEFAULTS, DURATION, STRATEGIES, parseChoice, parseDuration, parsePositiveInt, parseSize, type MinReady, type NotifyAddress, type Strategy } from '../config.js'
import { UsageError } from '../errors.js'
import type { PreflightOptions } from '../preflight/plan.js'
import type { SelectionCriteria } from '../roll/plan.js'
import { loadSecret, notifyAddress, type RawTargetFlags } from '../commands/common.js'
import { HAPROXY_DEFAULTS } from '../haproxy/defaults.js'

export interface RestartFlags extends RawTargetFlags {
  strategy?: string
  batch?: string
  readyTimeout?: string
  drainTimeout?: string
  notify?: string
  secretFile?: string
  dryRun?: boolean
  acceptBareOk?: boolean
  minReady?: string
  waitMinReady?: boolean
  recycle?: boolean
  expectRelease?: string
  olderThan?: string
  rssAbove?: string
  maxWorkers?: string
  force?: boolean
  json?: boolean
  logFile?: string
  logFormat?: string
  serverConfig?: string
  /** false with --no-preflight */
  preflight?: boolean
  preflightApp?: string
  preflightTimeout?: string
  preflightPython?: string
  preflightAlways?: boolean
}

/** How each worker is replaced: shared by restart, deploy and rollback. */
export function addRollOptions(cmd: Command): Command {
  return cmd
    .option('--strategy <name>', `replace (stop one, wait for its replacement) or surge (start one more first; Gunicorn)`, DEFAULTS.strategy)
    .option('--batch <n>', 'workers in flight at once', String(DEFAULTS.batch))
    .option('--ready-timeout <duration>', 'how long a new worker may take to report ready', `${DEFAULTS.readyTimeoutMs / 1000}s`)
    .option('--drain-timeout <duration>', 'how long an old worker may take to finish its requests and exit', `${DEFAULTS.drainTimeoutMs / 1000}s`)
    .option('--notify <host:port>', `where to listen for readiness datagrams (env ROLLING_RESTART_NOTIFY; default ${DEFAULTS.notify})`)
    .option('--secret-file <file>', 'require datagrams signed with the key in this file (env ROLLING_RESTART_SECRET_FILE)')
    .option('--accept-bare-ok', 'accept a bare "200 OK" datagram from older hand-made hooks (batch 1 only)')
    .option(
      '--min-ready <duration|auto>',
      `how long new workers must stay up after their READY before the run may end. auto: the one up longest ${DEFAULTS.minReady.releaseMs / 1000}s (the release seen to stay up); a duration: every new worker, the last included (0: no window). Every new worker is watched until the end`,
      'auto',
    )
    .option('--wait-min-ready', 'start the next step only once the previous new workers have been up for their --min-ready window (slower; one worker fewer touched when a release dies after READY)')
    .option('--expect-release <id>', "fail a step whose new worker reports another RELEASE")
    .option('--force', 'run even though the group is in error-resistance mode')
    .option('--dry-run', 'print the plan (target, workers in the order they would be signalled, strategy, batch, preflight) and touch nothing')
}

/** restart only: recycling a preloading master's workers. */
export function addRecycleOption(cmd: Command): Command {
  return cmd.option(
    '--recycle',
    "recycle the workers (memory) although the master preloads the app: each new worker runs the master's code, unchanged, and no release is claimed for it",
  )
}

export function addPreflightOptions(cmd: Command): Command {
  return cmd
    .option('--no-preflight', 'do not load the app in a throwaway interpreter before touching the first worker')
    .option('--preflight-app <spec>', "what the preflight loads (module:callable, or a .wsgi path) when the server's command line does not say")
    .option('--preflight-timeout <duration>', 'how long the preflight may take to import the app and probe its status page', `${DEFAULTS.preflightTimeoutMs / 1000}s`)
    .option('--preflight-python <path>', "the interpreter for the preflight, when it is not the master's own")
    .option('--preflight-always', 'run the preflight even when every running worker passed its probe with exactly the files on disk now (without it, such a recycle skips it)')
    .option('--server-config <file>', "the server's config file (the file given to gunicorn -c), read for the app spec, chdir and preload_app when the master's command line is hidden by its process title")
}

export interface RestartPlan {
  strategy: Strategy
  batch: number
  readyTimeoutMs: number
  drainTimeoutMs: number
  criteria: SelectionCriteria
  expectRelease: string | null
  /** null with --no-preflight */
  preflight: PreflightOptions | null
  notify: NotifyAddress
  /** the HMAC key, or null without --secret-file / ROLLING_RESTART_SECRET_FILE */
  secret: Buffer | null
  acceptBareOk: boolean
  /** --dry-run: print the plan, touch nothing */
  dryRun: boolean
  /** --min-ready: auto (the default), or one window for every new worker (0: none) */
  minReady: MinReady
  waitMinReady: boolean
  /** --recycle (restart only): workers of a preloading master are recycled, their code unchanged */
  recycle: boolean
}

/** Every flag checked before anything is looked up or touched. */
export function parseRestartFlags(f: RestartFlags): RestartPlan {
  const strategy = parseChoice('--strategy', f.strategy ?? DEFAULTS.strategy, STRATEGIES)
  const batch = parsePositiveInt('--batch', f.batch ?? String(DEFAULTS.batch), { min: 1, max: 64 })
  if (f.recycle && f.expectRelease !== undefined) {
    throw new UsageError(
      `--recycle says the code does not change (the workers fork a master that preloaded the app), and --expect-release ${f.expectRelease} expects new code: use one or the other`,
    )
  }
  if (f.acceptBareOk && batch > 1) {
    throw new UsageError('--accept-bare-ok needs --batch 1: a bare "200 OK" carries no pid, so with several workers in flight it cannot be told apart')
  }
  return {
    strategy,
    batch,
    readyTimeoutMs: f.readyTimeout !== undefined ? parseDuration('--ready-timeout', f.readyTimeout) : DEFAULTS.readyTimeoutMs,
    drainTimeoutMs: f.drainTimeout !== undefined ? parseDuration('--drain-timeout', f.drainTimeout) : DEFAULTS.drainTimeoutMs,
    criteria: {
      olderThanMs: f.olderThan !== undefined ? parseDuration('--older-than', f.olderThan) : undefined,
      rssAboveBytes: f.rssAbove !== undefined ? parseSize('--rss-above', f.rssAbove) : undefined,
      maxWorkers: f.maxWorkers !== undefined ? parsePositiveInt('--max-workers', f.maxWorkers) : undefined,
    },
    expectRelease: f.expectRelease ?? null,
    notify: notifyAddress(f.notify),
    secret: loadSecret(f.secretFile),
    acceptBareOk: f.acceptBareOk ?? false,
    dryRun: f.dryRun ?? false,
    minReady: parseMinReady(f.minReady ?? 'auto'),
    waitMinReady: f.waitMinReady ?? false,
    recycle: f.recycle ?? false,
    preflight:
      f.preflight === false
        ? null
        : {
            app: f.preflightApp,
            python: f.preflightPython,
            always: f.preflightAlways ?? false,
            timeoutMs: f.preflightTimeout !== undefined ? parseDuration('--preflight-timeout', f.preflightTimeout) : DEFAULTS.preflightTimeoutMs,
          },
  }
}

/**
 * --haproxy-socket, --haproxy-server, --haproxy-drain-timeout: drain this host's servers at HAProxy
 * around the roll (run/haproxy-around.ts parses and checks them). Declared apart, merged into RestartFlags.
 */
export interface RestartFlags {
  haproxySocket?: string
  haproxyServer?: string[]
  haproxyDrainTimeout?: string
}

export function addHaproxyOptions(cmd: Command): Command {
  const collect = (value: string, previous: string[] = []): string[] => [...previous, value]
  return cmd
    .option('--haproxy-socket <path>', 'an HAProxy stats socket at level admin: set each --haproxy-server to drain before the first step, back to ready after a good roll')
    .option('--haproxy-server <backend/server>', 'this host in HAProxy, as haproxy.cfg names it (repeatable)', collect)
    .option('--haproxy-drain-timeout <duration>', "how long a drained server's sessions may take to reach zero before the roll goes ahead", `${HAPROXY_DEFAULTS.drainTimeoutMs / 1000}s`)
}

/** --min-ready: `auto`, or a duration held by every new worker. */
function parseMinReady(value: string): MinReady {
  if (/^\s*auto\s*$/i.test(value)) return { ...DEFAULTS.minReady }
  if (!DURATION.test(value)) {
    throw new UsageError(`--min-ready ${JSON.stringify(value)} is neither auto nor a duration: use auto (the default), a duration such as 1s or 500ms, or 0 for no window`)
  }
  const ms = parseWindow('--min-ready', value)
  return { releaseMs: ms, eachMs: ms }
}

/** A duration that may be zero (`0`, `0s`): no window. */
function parseWindow(flag: string, value: string): number {
  return /^\s*0+(\.0+)?\s*(ms|s|m|h|d)?\s*$/i.test(value) ? 0 : parseDuration(flag, value)
}
