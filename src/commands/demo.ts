/**
 * `rolling-restart demo`: the whole thing on a bundled app. Start a real Gunicorn with the sample
 * app (demo/app.py) and the hook on free loopback ports, put light load on it, write a new release,
 * roll every worker with the real CLI (live progress), print what the clients saw, and stop every
 * process it started, by pid, also on Ctrl-C and on errors.
 */
import { spawn } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Command } from 'commander'
import { STRATEGIES, formatMs, parseChoice, parsePositiveInt } from '../config.js'
import { EXIT, UsageError, errorMessage } from '../errors.js'
import { isFailure, percentile, startLoad, type Load, type RequestRecord } from '../demo/load.js'
import { bootTimes, parseReport } from '../demo/roll-output.js'
import { findGunicorn, freeUdpPort, launchGunicorn, stillRunning, tail, type Server } from '../demo/server.js'
import { packageRoot } from '../paths.js'
import { sleep } from '../proc/procfs.js'

/** The bundled app, as Gunicorn and the preflight name it. */
const DEMO_APP_SPEC = 'app:app'

export interface DemoFlags {
  workers?: string
  boot?: string
  strategy?: string
  gunicorn?: string
}

export const DEMO_DEFAULTS = { workers: 4, bootSeconds: 1, concurrency: 4 } as const

export function addDemoOptions(cmd: Command): Command {
  return cmd
    .option('--workers <n>', 'Gunicorn workers to start and roll', String(DEMO_DEFAULTS.workers))
    .option('--boot <seconds>', "how long the sample app takes to load in each worker", String(DEMO_DEFAULTS.bootSeconds))
    .option('--strategy <name>', 'replace or surge', 'replace')
    .option('--gunicorn <path>', 'the gunicorn to run (default: /usr/bin/gunicorn, else gunicorn on PATH)')
}

interface Parsed {
  workers: number
  bootSeconds: number
  strategy: string
  gunicorn?: string | undefined
}

function parseFlags(f: DemoFlags): Parsed {
  const workers = parsePositiveInt('--workers', f.workers ?? String(DEMO_DEFAULTS.workers), { min: 1, max: 32 })
  const boot = f.boot ?? String(DEMO_DEFAULTS.bootSeconds)
  const bootSeconds = Number(boot)
  if (!/^\d+(\.\d+)?$/.test(boot) || bootSeconds > 30) throw new UsageError(`--boot ${JSON.stringify(boot)} is not a number of seconds from 0 to 30: use e.g. --boot 1.5`)
  const strategy = parseChoice('--strategy', f.strategy ?? 'replace', STRATEGIES)
  return { workers, bootSeconds, strategy, gunicorn: f.gunicorn }
}

const say = (line = '') => process.stdout.write(line + '\n')

export async function demoCommand(flags: DemoFlags, interrupt: AbortSignal): Promise<number> {
  const o = parseFlags(flags)
  const gunicorn = findGunicorn(o.gunicorn)
  const dir = mkdtempSync(join(tmpdir(), 'rolling-restart-demo-'))
  let server: Server | null = null
  let load: Load | null = null
  let roll: Roll | null = null
  // If the process exits without our cleanup (a second Ctrl-C): QUIT the master, stop the CLI.
  const lastResort = () => {
    roll?.interrupt()
    server?.stopNow()
  }
  process.on('exit', lastResort)
  const onInterrupt = () => {
    say('interrupted: stopping the roll, the load and the server ...')
    roll?.interrupt()
  }
  interrupt.addEventListener('abort', onInterrupt)
  try {
    say('rolling-restart demo: a real Gunicorn, a sample app, light load, and a rolling restart of every worker')
    const appDir = join(dir, 'app')
    mkdirSync(appDir)
    copyFileSync(join(packageRoot(), 'demo', 'app.py'), join(appDir, 'app.py'))
    writeFileSync(join(appDir, 'REVISION'), 'v1\n')
    const notifyPort = await freeUdpPort()
    const name = `rr-demo-${process.pid}`
    say(`starting ${gunicorn} with ${o.workers} workers (each takes ${o.bootSeconds} s to load the app) ...`)
    server = await launchGunicorn({
      gunicorn,
      appDir,
      appSpec: DEMO_APP_SPEC,
      workers: o.workers,
      name,
      notifyPort,
      dir,
      env: { DEMO_BOOT_S: String(o.bootSeconds) },
    })
    const s = server
    await s.ready({ timeoutMs: 30_000 + o.workers * o.bootSeconds * 1000, signal: interrupt })
    say(`gunicorn master PID ${s.masterPid} [${name}] on http://127.0.0.1:${s.port}/, workers ${s.workers().join(' ')}, release v1`)
    if (interrupt.aborted) return EXIT.INTERRUPTED

    load = startLoad({ port: s.port, concurrency: DEMO_DEFAULTS.concurrency, maxDurationMs: 300_000, maxRequests: 500_000, timeoutMs: 10_000 })
    const activeLoad = load
    say(`load: ${DEMO_DEFAULTS.concurrency} clients, each sending GET / and waiting for the answer before the next`)
    await sleep(1000)
    writeFileSync(join(appDir, 'REVISION'), 'v2\n')
    say(`new release v2 written; rolling every worker (--strategy ${o.strategy}):`)

    const rollStart = Date.now()
    roll = startRoll(rollArgs(o, s, notifyPort, dir), (line) => {
      const counts = / ready in /.test(line) ? `   (served ${served(activeLoad.records, rollStart)}, failed ${failed(activeLoad.records, rollStart)})` : ''
      say(`  ${line}${counts}`)
    })
    say(`  rolling-restart PID ${roll.pid}`)
    const { code, stdout } = await roll.done
    const rollEnd = Date.now()
    await sleep(500) // the requests sent during the roll finish
    const records = await load.stop()
    if (interrupt.aborted) return EXIT.INTERRUPTED

    return await sayOutcome({ o, code, stdout, records, rollStart, rollEnd, dir, port: s.port })
  } catch (err) {
    if (interrupt.aborted) return EXIT.INTERRUPTED
    throw err
  } finally {
    interrupt.removeEventListener('abort', onInterrupt)
    if (roll) await roll.stop()
    if (load) await load.stop()
    if (server) await stopServer(server)
    process.off('exit', lastResort)
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The roll's flags: the master by pidfile, a state dir of its own, JSON report on stdout, JSON log for the boot times. */
function rollArgs(o: Parsed, s: Server, notifyPort: number, dir: string): string[] {
  return [
    '--server', 'gunicorn',
    '--pidfile', s.pidfile,
    '--notify', `127.0.0.1:${notifyPort}`,
    '--state-dir', join(dir, 'state'),
    '--strategy', o.strategy,
    // the master's title hides its command line: name the app so the preflight can load v2 first
    '--preflight-app', DEMO_APP_SPEC,
    '--ready-timeout', `${Math.ceil(o.bootSeconds + 30)}s`,
    '--drain-timeout', '30s',
    '--log-file', join(dir, 'roll.log'),
    '--log-format', 'text',
    '--json',
  ]
}

interface Finished {
  o: Parsed
  code: number
  stdout: string
  records: readonly RequestRecord[]
  rollStart: number
  rollEnd: number
  dir: string
  port: number
}

/** What the roll did and what the clients saw; the demo's exit code. */
async function sayOutcome({ o, code, stdout, records, rollStart, rollEnd, dir, port }: Finished): Promise<number> {
  const report = parseReport(stdout)
  const during = records.filter((r) => r.start >= rollStart && r.start <= rollEnd)
  const bad = records.filter(isFailure)
  const sorted = during.filter((r) => !isFailure(r)).map((r) => r.ms).sort((a, b) => a - b)
  say('outcome:')
  if (!report) {
    say(`  rolling-restart exited with code ${code} without a report`)
    return code === 0 ? EXIT.INTERNAL : code
  }
  say(`  workers replaced: ${report.replaced.length} of ${o.workers} in ${formatMs(report.durationMs)}${report.ok ? '' : ` - stopped: ${report.aborted?.message ?? report.message}`}`)
  say(
    `  requests during the roll: ${during.length - during.filter(isFailure).length} served, failed: ${during.filter(isFailure).length}` +
      ` (p50 ${formatMs(percentile(sorted, 50))}, p99 ${formatMs(percentile(sorted, 99))}, max ${formatMs(sorted.at(-1) ?? 0)})`,
  )
  if (bad.length > during.filter(isFailure).length) say(`  failed outside the roll: ${bad.length - during.filter(isFailure).length}`)
  for (const f of bad.slice(0, 5)) say(`    failed at +${f.start - rollStart} ms: ${f.error ?? `HTTP ${f.status}`}`)
  const boots = bootTimes(join(dir, 'roll.log'))
  say('  each new worker: boot = its process start to its READY datagram; ready = how long the step waited for that READY')
  for (const r of report.replaced) {
    const boot = boots.get(r.newPid)
    say(`    ${r.oldPid} -> ${r.newPid}  boot ${boot !== undefined ? formatMs(boot) : '?'}, ready ${formatMs(r.readyMs)}, release ${r.release ?? '?'}`)
  }
  const answer = await get(port)
  if (answer) say(`  GET / now answers: ${answer.trim()}`)
  if (code !== 0) return code
  if (bad.length > 0) {
    say(`the roll succeeded but ${bad.length} request(s) failed: see above. On an overloaded machine, raise the timeouts or lower --workers`)
    return EXIT.INTERNAL
  }
  return EXIT.OK
}

/** Stop the server and say whether anything it started is left. */
async function stopServer(server: Server): Promise<void> {
  const { stopped, killed } = await server.stop()
  const left = [...server.seen.keys()].filter((pid) => stillRunning(server, pid))
  say(
    `stopped gunicorn master PID ${server.masterPid} and its workers (${stopped.length} process(es) were running` +
      `${killed.length ? `, ${killed.length} needed SIGKILL` : ''}); ${left.length === 0 ? 'no process left' : `STILL RUNNING: ${left.join(' ')}`}`,
  )
  if (left.length > 0) say(`--- last lines of the Gunicorn log ---\n${tail(server.logFile)}`)
}

const served = (records: readonly RequestRecord[], since: number) => records.filter((r) => r.start >= since && !isFailure(r)).length
const failed = (records: readonly RequestRecord[], since: number) => records.filter((r) => r.start >= since && isFailure(r)).length

interface Roll {
  pid: number
  done: Promise<{ code: number; stdout: string }>
  /** SIGINT: the CLI stops after its current wait, touching no further worker */
  interrupt(): void
  /** Make sure it has ended: SIGINT, then SIGKILL after 20 s. */
  stop(): Promise<void>
}

/** The real CLI in a child process: stdout is its JSON report, stderr its progress lines. */
function startRoll(args: string[], onLine: (line: string) => void): Roll {
  const bin = join(packageRoot(), 'bin', 'rolling-restart')
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  let stdout = ''
  let partial = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    const lines = (partial + d).split('\n')
    partial = lines.pop() ?? ''
    for (const l of lines) if (l.trim()) onLine(l)
  })
  let running = true
  const done = new Promise<{ code: number; stdout: string }>((resolve) => {
    child.on('error', (err) => {
      running = false
      onLine(`cannot run ${bin}: ${errorMessage(err)}`)
      resolve({ code: EXIT.INTERNAL, stdout })
    })
    child.on('close', (code, sig) => {
      running = false
      if (partial.trim()) onLine(partial)
      resolve({ code: code ?? (sig === 'SIGINT' ? EXIT.INTERRUPTED : EXIT.INTERNAL), stdout })
    })
  })
  const interrupt = () => {
    if (running) child.kill('SIGINT')
  }
  return {
    pid: child.pid ?? 0,
    done,
    interrupt,
    async stop() {
      if (!running) return
      interrupt()
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
      await done
      clearTimeout(timer)
    },
  }
}

function get(port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 5000 }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (d: string) => (body += d))
      res.on('end', () => resolve(body))
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(null))
    req.end()
  })
}
