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
import type { Command } from 'commander'
import { EXIT, RefusedError, UsageError, type ExitCode } from '../errors.js'
import { checkGroup, type GroupCheck } from '../switch/check-group.js'
import { CANARY_BY, renderDispatchScript, type RouteSpec } from '../switch/dispatch-script.js'
import { DEFAULT_VERIFY_TIMEOUT_MS, parseSwitchFlags, type SwitchFlags, type SwitchPlan } from '../switch/flags.js'
import type { Judgement, VerifyOutcome } from '../switch/group-judgement.js'
import {
  appendEntry,
  describeRoute,
  historyPathFor,
  primaryGroup,
  readHistory,
  writeHistory,
  type Mechanism,
  type SwitchHistory,
} from '../switch/history.js'
import { renderMapFile } from '../switch/map-file.js'
import { replaceFile, type Replaced } from '../switch/replace-file.js'
import { currentRoute, nextRoute } from '../switch/route.js'
import { lockRoutingFile, requireDirectory } from '../switch/routing-file.js'
import { printJson, stateDir } from './common.js'

export type { SwitchFlags } from '../switch/flags.js'

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
    const history = readRoutingHistory(plan)
    const live = currentRoute(plan, history)
    const route = nextRoute(plan, live, history)
    const check = await checkGroup(route.to, plan, dir)
    const report = startReport(plan, live, route, check)
    if (!check.judgement.ready) {
      refuseUnlessForced(plan, route.to, check.judgement, live)
      report.forced = true
    }

    const content = plan.mechanism === 'map' ? renderMapFile(route.to) : renderDispatchScript(route)
    const replaced = replaceFile(plan.file, content, { flag: plan.fileFlag })
    recordSwitch(plan, history, live, route, report, replaced)
    report.ok = true
    report.inode = replaced.inode
    report.previousInode = replaced.previousInode
    report.message = switchedMessage(plan, live, route, replaced)
    if (flags.json) printJson(report)
    else process.stdout.write(report.message + '\n')
    return EXIT.OK
  } finally {
    lock.release()
  }
}

/** The history of the routing file; one kept for the other kind of file is refused. */
function readRoutingHistory(plan: SwitchPlan): SwitchHistory | null {
  const history = readHistory(plan.historyPath, '--history')
  if (history && history.mechanism !== plan.mechanism) {
    throw new UsageError(
      `the switch history ${plan.historyPath} belongs to a ${history.mechanism === 'map' ? '--map' : '--dispatch'} file, not to ${plan.fileFlag} ${plan.file}: give --history FILE`,
    )
  }
  return history
}

function startReport(plan: SwitchPlan, live: RouteSpec | null, route: RouteSpec, check: GroupCheck): SwitchReport {
  const { judgement } = check
  return {
    ok: false,
    action: plan.action,
    mechanism: plan.mechanism,
    file: plan.file,
    history: plan.historyPath,
    from: live ? primaryGroup(live) : null,
    to: route.to,
    route,
    forced: false,
    checks: {
      group: route.to,
      masterPid: check.masterPid,
      processes: check.live,
      readyPids: judgement.readyPids,
      unknownPids: judgement.unknownPids,
      problems: judgement.problems,
      verify: check.verify,
    },
    inode: null,
    previousInode: null,
    message: '',
  }
}

/** The group is not ready: refused (exit 5, nothing changed) unless --force, which says on stderr what it overrides. */
function refuseUnlessForced(plan: SwitchPlan, group: string, judgement: Judgement, live: RouteSpec | null): void {
  const still = live ? `${plan.file} still routes to ${describeRoute(live)}` : `${plan.file} was not touched`
  if (!plan.force) {
    throw new RefusedError(
      `refusing to switch traffic to ${group}: ${judgement.problems.join('; ')}. Nothing was changed: ${still}. ` +
        `Make every process of ${group} ready (roll it: \`rolling-restart --group ${group} --server mod_wsgi\`), ` +
        `check it with --verify-url URL, or pass --force to switch anyway`,
      'not-ready',
    )
  }
  process.stderr.write(`rolling-restart: --force: switching to ${group} although ${judgement.problems.join('; ')}\n`)
}

/** Append this switch to the history (seeded with the route that was live, when it is new). */
function recordSwitch(plan: SwitchPlan, history: SwitchHistory | null, live: RouteSpec | null, route: RouteSpec, report: SwitchReport, replaced: Replaced): void {
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
}

function switchedMessage(plan: SwitchPlan, live: RouteSpec | null, route: RouteSpec, replaced: Replaced): string {
  const fromText = live ? describeRoute(live) : 'nothing recorded'
  return (
    `${plan.file} now routes to ${describeRoute(route)} (was: ${fromText}); ${plan.mechanism === 'map' ? 'RewriteMap' : 'WSGIDispatchScript'} ` +
    `replaced by rename (inode ${replaced.previousInode ?? 'none'} -> ${replaced.inode}). Requests arriving from now on follow it; ` +
    `requests in flight finish where they are. ` +
    (plan.action === 'back' ? 'Again with --back to undo.' : `Undo: rolling-restart switch --back ${plan.fileFlag} ${plan.file}`)
  )
}

function liveSince(mtimeMs: number | null): string | undefined {
  return mtimeMs === null ? undefined : new Date(mtimeMs).toISOString()
}
