/**
 * `rolling-restart switch`: move traffic between mod_wsgi daemon process groups (blue/green) by
 * replacing the file Apache routes with: a RewriteMap txt file (`--map`) or a WSGIDispatchScript
 * (`--dispatch`, which can also send a canary share). The file is replaced by rename, never edited
 * in place; the switch is refused when the target group is not all up and ready, unless --force.
 *
 *   parse flags (exit 2) -> lock the routing file -> what is live now (file, history)
 *   -> the route to write -> check the target group (exit 3 not found, 5 not ready)
 *   -> replace the file -> append to the history -> report
 */
import { basename, dirname, resolve } from 'node:path'
import { readFileSync, statSync, type Stats } from 'node:fs'
import type { Command } from 'commander'
import { parseChoice, parseDuration, formatMs } from '../config.js'
import { EXIT, RefusedError, RollingRestartError, TargetError, UsageError, errorMessage, type ExitCode } from '../errors.js'
import { resolveTarget } from '../servers/resolve.js'
import { acquireLock, holderAlive, lockPath, readHolder, type Lock } from '../state/lock.js'
import { readState, stateKey } from '../state/state-file.js'
import {
  CANARY_BY,
  parseCookieName,
  parseDispatchScript,
  parseHeaderName,
  parsePercent,
  renderDispatchScript,
  type CanaryBy,
  type RouteSpec,
} from '../switch/dispatch-script.js'
import {
  appendEntry,
  describeRoute,
  historyPathFor,
  previousEntry,
  primaryGroup,
  readHistory,
  writeHistory,
  type Mechanism,
  type SwitchHistory,
} from '../switch/history.js'
import { parseGroupName, parseMapFile, renderMapFile } from '../switch/map-file.js'
import { judgeGroup, type Judgement, type VerifyOutcome } from '../switch/readiness.js'
import { replaceFile, statOrNull } from '../switch/replace-file.js'
import { printJson, stateDir } from './common.js'

export const DEFAULT_VERIFY_TIMEOUT_MS = 10_000

export interface SwitchFlags {
  to?: string
  back?: boolean
  map?: string
  dispatch?: string
  canary?: string
  stickyCookie?: string
  canaryHeader?: string
  canaryBy?: string
  verifyUrl?: string
  verifyTimeout?: string
  force?: boolean
  history?: string
  apachePidfile?: string
  stateDir?: string
  json?: boolean
}

export function addSwitchOptions(cmd: Command): Command {
  return cmd
    .option('--to <group>', 'the daemon process group to send traffic to (e.g. app:green, app:maintenance)')
    .option('--back', 'return to the previous target (the switch before the last one); twice toggles')
    .option('--map <file>', 'write this RewriteMap txt file (the line `current GROUP`)')
    .option('--dispatch <file>', 'write this WSGIDispatchScript (process_group(environ))')
    .option('--canary <percent>', '--dispatch: send this share (0-100) to --to, the rest to the group live now')
    .option('--sticky-cookie <name>', 'canary: decide by a hash of this cookie, so a client keeps its group')
    .option('--canary-header <name>', '--dispatch: a request with this header (any value but 0) goes to --to')
    .option('--canary-by <how>', `canary requests without the sticky cookie: ${CANARY_BY.join(' or ')}`, 'random')
    .option('--verify-url <url>', 'also require this URL to answer 2xx (e.g. the target group\'s /_status)')
    .option('--verify-timeout <duration>', 'how long --verify-url may take', `${DEFAULT_VERIFY_TIMEOUT_MS / 1000}s`)
    .option('--force', 'switch even though the target group is not all up and ready')
    .option('--history <file>', 'the switch history (default: FILE.history.json next to the routing file)')
    .option('--apache-pidfile <file>', 'which Apache runs the groups, where several run')
    .option('--state-dir <dir>', 'where the groups\' state files live (env ROLLING_RESTART_STATE_DIR)')
    .option('--json', 'print one JSON report on stdout')
}

export interface CanaryFlags {
  percent: number
  stickyCookie: string | null
  header: string | null
  by: CanaryBy
}

export interface SwitchPlan {
  action: 'to' | 'back'
  to: string | null
  mechanism: Mechanism
  /** the flag that named the file, for messages */
  fileFlag: '--map' | '--dispatch'
  file: string
  historyPath: string
  canary: CanaryFlags | null
  verifyUrl: string | null
  verifyTimeoutMs: number
  force: boolean
  apachePidfile: string | undefined
}

/** Every flag checked before anything is read or written. */
export function parseSwitchFlags(f: SwitchFlags): SwitchPlan {
  if (f.to !== undefined && f.back) throw new UsageError(`--to ${f.to} and --back both say where to switch: give one of them`)
  if (f.to === undefined && !f.back) {
    throw new UsageError('say where to send the traffic: --to GROUP (e.g. --to app:green), or --back to return to the previous target')
  }
  if (f.map !== undefined && f.dispatch !== undefined) {
    throw new UsageError(`--map ${f.map} and --dispatch ${f.dispatch} name two routing files: a switch writes one; give the one Apache reads`)
  }
  if (f.map === undefined && f.dispatch === undefined) {
    throw new UsageError('say which file routes the traffic: --map FILE (the RewriteMap txt file) or --dispatch FILE (the WSGIDispatchScript)')
  }
  for (const [flag, value] of [['--map', f.map], ['--dispatch', f.dispatch], ['--history', f.history]] as const) {
    if (value !== undefined && (value.trim() === '' || value.endsWith('/'))) {
      throw new UsageError(`${flag} ${JSON.stringify(value)} is not a file path: give the path of a file, e.g. ${flag} /etc/apache2/wsgi-live.txt`)
    }
  }
  const mechanism: Mechanism = f.map !== undefined ? 'map' : 'dispatch'
  const fileFlag = mechanism === 'map' ? '--map' : '--dispatch'
  const file = resolve((f.map ?? f.dispatch) as string)

  const canaryGiven: Array<[string, string]> = []
  if (f.canary !== undefined) canaryGiven.push(['--canary', f.canary])
  if (f.stickyCookie !== undefined) canaryGiven.push(['--sticky-cookie', f.stickyCookie])
  if (f.canaryHeader !== undefined) canaryGiven.push(['--canary-header', f.canaryHeader])
  if (f.canaryBy !== undefined && f.canaryBy !== 'random') canaryGiven.push(['--canary-by', f.canaryBy])
  if (canaryGiven.length && mechanism === 'map') {
    const [flag, value] = canaryGiven[0] as [string, string]
    throw new UsageError(
      `${flag} ${value} needs --dispatch FILE: a RewriteMap file sends every request to one group; a canary share needs a WSGIDispatchScript`,
    )
  }
  if (canaryGiven.length && f.back) {
    const [flag, value] = canaryGiven[0] as [string, string]
    throw new UsageError(`${flag} ${value} cannot go with --back: --back re-applies the previous switch as it was; drop ${flag}`)
  }
  let canary: CanaryFlags | null = null
  if (canaryGiven.length) {
    if (f.canary === undefined && (f.stickyCookie !== undefined || (f.canaryBy !== undefined && f.canaryBy !== 'random'))) {
      const flag = f.stickyCookie !== undefined ? `--sticky-cookie ${f.stickyCookie}` : `--canary-by ${f.canaryBy}`
      throw new UsageError(`${flag} only shapes a canary share: add --canary PERCENT (e.g. --canary 10)`)
    }
    canary = {
      // --canary-header alone: nobody goes to the new group unless the header asks for it
      percent: f.canary !== undefined ? parsePercent('--canary', f.canary) : 0,
      stickyCookie: f.stickyCookie !== undefined ? parseCookieName('--sticky-cookie', f.stickyCookie) : null,
      header: f.canaryHeader !== undefined ? parseHeaderName('--canary-header', f.canaryHeader) : null,
      by: parseChoice('--canary-by', f.canaryBy ?? 'random', CANARY_BY),
    }
  }

  let verifyUrl: string | null = null
  if (f.verifyUrl !== undefined) {
    let u: URL
    try {
      u = new URL(f.verifyUrl)
    } catch {
      throw new UsageError(`--verify-url ${JSON.stringify(f.verifyUrl)} is not a URL: give a full http:// or https:// URL, e.g. --verify-url http://127.0.0.1/green/_status`)
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      throw new UsageError(`--verify-url ${f.verifyUrl} is not an http:// or https:// URL: give the URL of a page the target group serves`)
    }
    verifyUrl = u.href
  }
  return {
    action: f.back ? 'back' : 'to',
    to: f.to !== undefined ? parseGroupName('--to', f.to) : null,
    mechanism,
    fileFlag,
    file,
    historyPath: f.history !== undefined ? resolve(f.history) : historyPathFor(file),
    canary,
    verifyUrl,
    verifyTimeoutMs: f.verifyTimeout !== undefined ? parseDuration('--verify-timeout', f.verifyTimeout) : DEFAULT_VERIFY_TIMEOUT_MS,
    force: f.force ?? false,
    apachePidfile: f.apachePidfile,
  }
}

/** What the routing file says now: our own files say it in a form we can read back. */
export function currentRoute(plan: Pick<SwitchPlan, 'mechanism' | 'file' | 'fileFlag'>, history: SwitchHistory | null): RouteSpec | null {
  let text: string | null = null
  if (statOrNull(plan.file, plan.fileFlag)) {
    try {
      text = readFileSync(plan.file, 'utf8')
    } catch (err) {
      throw new TargetError(`${plan.fileFlag} ${plan.file}: cannot read it (${(err as NodeJS.ErrnoException).code})`, 'denied')
    }
  }
  if (text !== null) {
    if (plan.mechanism === 'map') {
      const group = parseMapFile(text)
      if (group) return { to: group, canary: null }
    } else {
      const spec = parseDispatchScript(text)
      if (spec) return spec
    }
    return null // a file we did not write: we do not guess what it routes to
  }
  return history?.entries.at(-1)?.route ?? null
}

/** The route this run writes. */
export function nextRoute(plan: SwitchPlan, live: RouteSpec | null, history: SwitchHistory | null): RouteSpec {
  if (plan.action === 'back') {
    const prev = previousEntry(history)
    if (!prev) {
      const n = history?.entries.length ?? 0
      throw new UsageError(
        `--back: nothing to go back to: ${plan.historyPath} records ${n === 0 ? 'no switch' : 'only one switch'} of ${plan.file}. ` +
          `Name the group instead: --to GROUP`,
      )
    }
    return prev.route
  }
  const to = plan.to as string
  if (!plan.canary) return { to, canary: null }
  if (!live) {
    throw new UsageError(
      `--canary sends a share to ${to} and the rest to the group live now, but ${plan.file} does not say which group that is ` +
        `(${statOrNull(plan.file, plan.fileFlag) ? 'it was not written by rolling-restart' : 'it does not exist yet'}). ` +
        `First switch everything with \`rolling-restart switch --to GROUP --dispatch ${plan.file}\``,
    )
  }
  const stable = live.canary ? live.canary.stable : live.to
  if (stable === to) {
    throw new UsageError(
      `--to ${to} with --canary: ${to} already serves the traffic outside the canary. To send all of it there, drop --canary; ` +
        `to try another group, name that group with --to`,
    )
  }
  return { to, canary: { stable, ...plan.canary } }
}

export interface SwitchReport {
  ok: boolean
  action: 'to' | 'back'
  mechanism: Mechanism
  file: string
  history: string
  /** the group that had most traffic before, when known */
  from: string | null
  to: string
  route: RouteSpec
  forced: boolean
  checks: {
    group: string
    masterPid: number | null
    processes: number[]
    readyPids: number[]
    unknownPids: number[]
    problems: string[]
    verify: VerifyOutcome | null
  }
  inode: number | null
  previousInode: number | null
  message: string
}

export async function switchCommand(flags: SwitchFlags): Promise<ExitCode> {
  const plan = parseSwitchFlags(flags)
  const dir = stateDir(flags)
  requireDirectory(plan.fileFlag, plan.file)
  if (plan.historyPath !== historyPathFor(plan.file)) requireDirectory('--history', plan.historyPath)
  const lock = await lockRoutingFile(plan)
  try {
    const history = readHistory(plan.historyPath, '--history')
    if (history && history.mechanism !== plan.mechanism) {
      throw new UsageError(
        `the switch history ${plan.historyPath} belongs to a ${history.mechanism === 'map' ? '--map' : '--dispatch'} file, not to ${plan.fileFlag} ${plan.file}: give --history FILE`,
      )
    }
    const live = currentRoute(plan, history)
    const route = nextRoute(plan, live, history)
    const group = route.to
    const { judgement, verify, masterPid, live: processes } = await checkGroup(group, plan, dir)
    const report: SwitchReport = {
      ok: false,
      action: plan.action,
      mechanism: plan.mechanism,
      file: plan.file,
      history: plan.historyPath,
      from: live ? primaryGroup(live) : null,
      to: group,
      route,
      forced: false,
      checks: {
        group,
        masterPid,
        processes,
        readyPids: judgement.readyPids,
        unknownPids: judgement.unknownPids,
        problems: judgement.problems,
        verify,
      },
      inode: null,
      previousInode: null,
      message: '',
    }
    if (!judgement.ready) {
      const still = live ? `${plan.file} still routes to ${describeRoute(live)}` : `${plan.file} was not touched`
      if (!plan.force) {
        throw new RefusedError(
          `refusing to switch traffic to ${group}: ${judgement.problems.join('; ')}. Nothing was changed: ${still}. ` +
            `Make every process of ${group} ready (roll it: \`rolling-restart --group ${group} --server mod_wsgi\`), ` +
            `check it with --verify-url URL, or pass --force to switch anyway`,
          'not-ready',
        )
      }
      report.forced = true
      process.stderr.write(`rolling-restart: --force: switching to ${group} although ${judgement.problems.join('; ')}\n`)
    }

    const content = plan.mechanism === 'map' ? renderMapFile(group) : renderDispatchScript(route)
    const replaced = replaceFile(plan.file, content, { flag: plan.fileFlag })
    writeHistory(
      plan.historyPath,
      appendEntry(history, { mechanism: plan.mechanism, file: plan.file, live, liveSince: liveSince(replaced.previousMtimeMs) }, {
        at: new Date().toISOString(),
        route,
        from: report.from,
        back: plan.action === 'back',
        forced: report.forced,
        pid: process.pid,
        user: process.env.SUDO_USER ?? process.env.USER ?? null,
      }),
    )
    report.ok = true
    report.inode = replaced.inode
    report.previousInode = replaced.previousInode
    const fromText = live ? describeRoute(live) : 'nothing recorded'
    report.message =
      `${plan.file} now routes to ${describeRoute(route)} (was: ${fromText}); ${plan.mechanism === 'map' ? 'RewriteMap' : 'WSGIDispatchScript'} ` +
      `replaced by rename (inode ${replaced.previousInode ?? 'none'} -> ${replaced.inode}). Requests arriving from now on follow it; ` +
      `requests in flight finish where they are. ` +
      (plan.action === 'back' ? 'Again with --back to undo.' : `Undo: rolling-restart switch --back ${plan.fileFlag} ${plan.file}`)
    if (flags.json) printJson(report)
    else process.stdout.write(report.message + '\n')
    return EXIT.OK
  } finally {
    lock.release()
  }
}

/** The file's directory must exist already: a typo must not create a directory Apache never reads. */
export function requireDirectory(flag: string, file: string): void {
  const dir = dirname(file)
  let st: Stats | null = null
  try {
    st = statSync(dir)
  } catch {
    st = null
  }
  if (!st || !st.isDirectory()) {
    throw new UsageError(`${flag} ${file}: the directory ${dir} ${st ? 'is not a directory' : 'does not exist'}; give the path Apache is configured to read`)
  }
}

function liveSince(mtimeMs: number | null): string | undefined {
  return mtimeMs === null ? undefined : new Date(mtimeMs).toISOString()
}

async function lockRoutingFile(plan: SwitchPlan): Promise<Lock> {
  const lockDir = dirname(plan.historyPath)
  const key = `${basename(plan.file)}.switch`
  try {
    return await acquireLock(lockDir, key, plan.file)
  } catch (err) {
    if (err instanceof RefusedError) {
      throw new RefusedError(
        `another \`rolling-restart switch\` is replacing ${plan.file} right now (lock ${lockPath(lockDir, key)}): wait for it to finish and run this again`,
        'locked',
      )
    }
    throw err
  }
}

/** Gather the facts about `group` and judge them. A group that cannot be found is exit 3, or a problem under --force. */
async function checkGroup(
  group: string,
  plan: SwitchPlan,
  dir: string,
): Promise<{ judgement: Judgement; verify: VerifyOutcome | null; masterPid: number | null; live: number[] }> {
  const verify = plan.verifyUrl !== null ? await verifyUrl(plan.verifyUrl, plan.verifyTimeoutMs) : null
  let resolved
  try {
    resolved = resolveTarget({ group, server: 'mod_wsgi', apachePidfile: plan.apachePidfile })
  } catch (err) {
    const notFound = err instanceof RollingRestartError && err.exitCode === EXIT.TARGET
    if (!notFound) throw err
    if (!plan.force) {
      // the lookup speaks of --pidfile/--master, which switch does not take: --apache-pidfile is its way
      const why = err.message.replace(/\.? Or name the master with --pidfile FILE or --master PID\.?$/, '')
      throw new TargetError(
        `cannot switch to ${group}: ${why}. A routing file naming a group Apache does not run answers 500 to every request; ` +
          `check the name (WSGIDaemonProcess ${group}), give --apache-pidfile FILE where several Apaches run, or pass --force to write it anyway`,
        err.code,
      )
    }
    const problems = [`it was not found (${errorMessage(err)})`]
    if (verify && !verify.ok) problems.push(`--verify-url ${verify.url} answered ${verify.detail}, not 2xx`)
    return { judgement: { ready: false, problems, readyPids: [], unknownPids: [] }, verify, masterPid: null, live: [] }
  }
  const { adapter, target } = resolved
  const key = stateKey(target.server, target.group)
  const holder = readHolder(lockPath(dir, key))
  const rollRunner = holder !== null && holder !== 'partial' && holderAlive(holder) ? holder.pid : null
  const live = adapter.workers(target).map((w) => w.pid)
  const expected = typeof target.meta.processes === 'number' ? target.meta.processes : null
  const judgement = judgeGroup({ group, live, expected, state: readState(dir, key), rollRunner, verify })
  return { judgement, verify, masterPid: target.masterPid, live }
}

export async function verifyUrl(url: string, timeoutMs: number): Promise<VerifyOutcome> {
  try {
    const res = await fetch(url, {
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
      headers: { 'user-agent': 'rolling-restart switch --verify-url' },
    })
    await res.body?.cancel()
    return { url, ok: res.status >= 200 && res.status < 300, detail: `${res.status} ${res.statusText}`.trim() }
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } }
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return { url, ok: false, detail: `no answer within ${formatMs(timeoutMs)}` }
    return { url, ok: false, detail: e.cause?.message ?? e.cause?.code ?? e.message }
  }
}
