/**
 * The ways to restart every worker that the benchmark compares. Each one starts on a fresh server
 * under steady load, and returns when it counts the restart as complete:
 *
 *   hup       kill -HUP <master>: Gunicorn's own reload (spawns a new set, TERMs the old at once)
 *   term-all  kill -TERM <every worker>: the master respawns them all
 *   loop      the hand-made loop people write: `for w in workers; do kill $w; nc -ul 4012 -W1; done`
 *             (TERM one worker, wait for any datagram on the port, next)
 *   replace   rolling-restart --strategy replace (the default --min-ready auto: the new worker up
 *             longest 1 s; steps overlap the window). The release is unchanged, so the running
 *             workers vouch for it and no preflight runs
 *   replace-each       the same with --min-ready 1s: every new worker, the last included, 1 s
 *   replace-preflight  the same with --preflight-always: what a changed release costs (the
 *             preflight loads it once before the first signal)
 *   replace-wait       the same with --wait-min-ready (each step waits out the previous window)
 *   replace-no-window  the same with --min-ready 0 (what the window costs)
 *   surge     rolling-restart --strategy surge
 */
import { spawn } from 'node:child_process'
import { createSocket, type Socket } from 'node:dgram'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Server } from '../src/demo/server.js'
import { childrenOf, isAlive, signal, sleep } from '../src/proc/procfs.js'
import { readToolLog } from './tool-log.js'

export const SCENARIOS = ['hup', 'term-all', 'loop', 'replace', 'replace-each', 'replace-preflight', 'replace-wait', 'replace-no-window', 'surge'] as const
export type ScenarioKind = (typeof SCENARIOS)[number]

export const LABELS: Record<ScenarioKind, string> = {
  hup: 'kill -HUP master',
  'term-all': 'TERM every worker',
  loop: 'hand-made loop',
  replace: 'rolling-restart replace',
  'replace-each': 'replace --min-ready 1s',
  'replace-preflight': 'replace --preflight-always',
  'replace-wait': 'replace --wait-min-ready',
  'replace-no-window': 'replace --min-ready 0',
  surge: 'rolling-restart surge',
}

/** The tool's own flags in each of its scenarios. */
const TOOL_ARGS: Partial<Record<ScenarioKind, string[]>> = {
  replace: ['--strategy', 'replace'],
  'replace-each': ['--strategy', 'replace', '--min-ready', '1s'],
  'replace-preflight': ['--strategy', 'replace', '--preflight-always'],
  'replace-wait': ['--strategy', 'replace', '--wait-min-ready'],
  'replace-no-window': ['--strategy', 'replace', '--min-ready', '0'],
  surge: ['--strategy', 'surge'],
}

export interface Datagram {
  at: number
  fields: Record<string, string>
}

/** Keeps every datagram that arrives on 127.0.0.1:port. */
export class Collector {
  readonly messages: Datagram[] = []
  private constructor(private readonly socket: Socket) {
    socket.on('message', (msg) => {
      const fields: Record<string, string> = {}
      for (const line of msg.toString('utf8').split('\n')) {
        const eq = line.indexOf('=')
        if (eq > 0) fields[line.slice(0, eq)] = line.slice(eq + 1)
      }
      this.messages.push({ at: Date.now(), fields })
    })
  }
  static open(port: number): Promise<Collector> {
    const s = createSocket('udp4')
    return new Promise((resolve, reject) => {
      s.once('error', reject)
      s.bind(port, '127.0.0.1', () => resolve(new Collector(s)))
    })
  }
  private closed = false
  close(): Promise<void> {
    if (this.closed) return Promise.resolve()
    this.closed = true
    return new Promise((resolve) => this.socket.close(() => resolve()))
  }
}

export interface ToolUsage {
  /** peak resident set size of the rolling-restart process, KiB (GNU time %M) */
  maxRssKb: number
  /** user + system CPU seconds */
  cpuSeconds: number
}

export interface TriggerResult {
  t0: number
  /** complete: every old worker gone and every new one ready (the loop: its last datagram; the tool: its exit) */
  t1: number
  /** the last new worker's READY: from then on every worker serves the new code */
  readyAt: number
  /** the first signal to a worker or the master (the tool: from its log; the others signal at t0) */
  firstSignalAt: number
  /** BOOT_MS of each new worker (process start to its READY datagram) */
  bootMs: number[]
  ok: boolean
  note: string | null
  /** rolling-restart only */
  tool: ToolUsage | null
  exitCode: number | null
  /** the tool's own report of its duration (from its JSON report) */
  toolDurationMs: number | null
}

export interface TriggerInput {
  server: Server
  collector: Collector
  notifyPort: number
  dir: string
  workers: number
  batch: number
  repo: string
  timeoutMs: number
  /** registers a cleanup run on Ctrl-C or failure (the tool's child process) */
  onChild: (stop: (() => void) | null) => void
}

export async function trigger(kind: ScenarioKind, input: TriggerInput): Promise<TriggerResult> {
  switch (kind) {
    case 'hup':
      return allAtOnce(input, () => signal(input.server.masterPid, 'SIGHUP'))
    case 'term-all':
      return allAtOnce(input, (old) => old.forEach((pid) => signal(pid, 'SIGTERM')))
    case 'loop':
      return handMadeLoop(input)
    case 'replace':
    case 'replace-each':
    case 'replace-preflight':
    case 'replace-wait':
    case 'replace-no-window':
    case 'surge':
      return rollingRestart(input, TOOL_ARGS[kind] ?? [])
  }
}

/** Signal, then wait until `workers` new workers reported READY=1 and every old one has exited. */
async function allAtOnce(input: TriggerInput, act: (old: number[]) => void): Promise<TriggerResult> {
  const { server, collector, workers, timeoutMs } = input
  const old = server.workers()
  const t0 = Date.now()
  act(old)
  const deadline = t0 + timeoutMs
  let oldGoneAt: number | null = null
  let ready: Datagram[] = []
  while (Date.now() < deadline) {
    if (oldGoneAt === null && old.every((p) => !isAlive(p))) oldGoneAt = Date.now()
    ready = collector.messages.filter((d) => d.at >= t0 && d.fields.READY === '1' && !old.includes(Number(d.fields.PID)))
    if (oldGoneAt !== null && ready.length >= workers) break
    await sleep(10)
  }
  const done = oldGoneAt !== null && ready.length >= workers
  const lastReady = Math.max(...ready.slice(0, workers).map((d) => d.at), t0)
  const t1 = done ? Math.max(lastReady, oldGoneAt ?? 0) : Date.now()
  return {
    t0,
    t1,
    readyAt: done ? lastReady : t1,
    firstSignalAt: t0,
    bootMs: ready.slice(0, workers).map((d) => Number(d.fields.BOOT_MS)).filter(Number.isFinite),
    ok: done,
    note: done ? null : `not complete after ${timeoutMs / 1000} s: ${ready.length} of ${workers} new workers ready, old ${oldGoneAt === null ? 'not all' : 'all'} gone`,
    tool: null,
    exitCode: null,
    toolDurationMs: null,
  }
}

/** TERM one worker, wait for the next datagram whatever it says, repeat. No pid check, no exit check. */
async function handMadeLoop(input: TriggerInput): Promise<TriggerResult> {
  const { server, collector, timeoutMs } = input
  const old = server.workers()
  const t0 = Date.now()
  const boot: number[] = []
  let last = t0
  for (const pid of old) {
    const seen = collector.messages.length
    const killedAt = Date.now()
    signal(pid, 'SIGTERM')
    while (collector.messages.length === seen) {
      if (Date.now() - killedAt > timeoutMs) {
        const t1 = Date.now()
        const note = `no datagram within ${timeoutMs / 1000} s of killing ${pid}`
        return { t0, t1, readyAt: t1, firstSignalAt: t0, bootMs: boot, ok: false, note, tool: null, exitCode: null, toolDurationMs: null }
      }
      await sleep(5)
    }
    const d = collector.messages[seen] as Datagram
    last = d.at
    const ms = Number(d.fields.BOOT_MS)
    if (Number.isFinite(ms)) boot.push(ms)
  }
  return { t0, t1: last, readyAt: last, firstSignalAt: t0, bootMs: boot, ok: true, note: null, tool: null, exitCode: null, toolDurationMs: null }
}

/** The real CLI, under GNU time when /usr/bin/time exists (peak RSS and CPU seconds of the tool). */
async function rollingRestart(input: TriggerInput, toolArgs: string[]): Promise<TriggerResult> {
  const { server, collector, notifyPort, dir, batch, repo, timeoutMs } = input
  await collector.close() // the tool listens on the notify port itself
  const bin = join(repo, 'bin', 'rolling-restart')
  const logFile = join(dir, 'rolling-restart.log')
  const timeFile = join(dir, 'time.txt')
  const args = [
    bin,
    '--server', 'gunicorn',
    '--pidfile', server.pidfile,
    '--notify', `127.0.0.1:${notifyPort}`,
    '--state-dir', join(dir, 'state'),
    ...toolArgs,
    '--batch', String(batch),
    '--ready-timeout', `${Math.ceil(timeoutMs / 1000)}s`,
    '--drain-timeout', '30s',
    '--json',
    '--log-file', logFile,
    '--log-format', 'json',
  ]
  const gnuTime = existsSync('/usr/bin/time')
  const [cmd, argv] = gnuTime ? ['/usr/bin/time', ['-f', '%M %U %S', '-o', timeFile, process.execPath, ...args]] : [process.execPath, args]
  const t0 = Date.now()
  const child = spawn(cmd, argv as string[], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  // Ctrl-C or a failure elsewhere: SIGINT to rolling-restart itself (GNU time ignores SIGINT while it waits).
  input.onChild(() => {
    for (const pid of gnuTime && child.pid ? childrenOf(child.pid).map((c) => c.pid) : [child.pid ?? 0]) if (pid) signal(pid, 'SIGINT')
  })
  const exitCode = await new Promise<number>((resolve) => {
    child.on('close', (code) => resolve(code ?? 1))
    child.on('error', () => resolve(1))
  })
  const t1 = Date.now()
  input.onChild(null)

  let report: { ok?: boolean; durationMs?: number; message?: string } = {}
  try {
    report = JSON.parse(stdout) as typeof report
  } catch {
    // no report: the message is in stderr
  }
  const log = readToolLog(logFile)
  let tool: ToolUsage | null = null
  if (gnuTime && existsSync(timeFile)) {
    const m = /(\d+) ([\d.]+) ([\d.]+)\s*$/.exec(readFileSync(timeFile, 'utf8'))
    if (m) tool = { maxRssKb: Number(m[1]), cpuSeconds: Math.round((Number(m[2]) + Number(m[3])) * 100) / 100 }
  }
  const ok = exitCode === 0 && report.ok === true
  return {
    t0,
    t1,
    readyAt: log.lastReadyAt ?? t1,
    firstSignalAt: log.firstSignalAt ?? t1,
    bootMs: log.bootMs,
    ok,
    note: ok ? null : `exit ${exitCode}: ${report.message ?? stderr.trim().split('\n').slice(-3).join(' ')}`,
    tool,
    exitCode,
    toolDurationMs: report.durationMs ?? null,
  }
}
