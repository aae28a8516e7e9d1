// The demo run as a user runs it, with every process it starts tracked so a test can prove (and
// ensure) that nothing is left behind.
import { spawn } from 'node:child_process'
import { binPath } from './paths.js'
import { childrenOf, readStat, signalPid } from './procs.js'

export interface Demo {
  pid: number
  stdout(): string
  /** every descendant of the demo seen so far: pid -> start time */
  seen: Map<number, number>
  result: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>
}

/**
 * Runs the demo (the repository's bin, or `bin` as found on `env`'s PATH), watching its process
 * tree every 50 ms so the test knows every process it started, and kills what is left at teardown.
 */
export function runDemo(t: Tap.Test, args: string[] = [], opts: { bin?: string; env?: NodeJS.ProcessEnv } = {}): Demo {
  const { NODE_OPTIONS: _ignored, ...inherited } = process.env
  const env = opts.env ?? inherited
  const [cmd, argv] = opts.bin ? [opts.bin, ['demo', ...args]] : [process.execPath, [binPath, 'demo', ...args]]
  const child = spawn(cmd, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] })
  const pid = child.pid as number
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const seen = new Map<number, number>()
  const watch = () => {
    const queue = [pid]
    while (queue.length) {
      for (const c of childrenOf(queue.shift() as number)) {
        if (!seen.has(c)) seen.set(c, readStat(c)?.starttime ?? 0)
        queue.push(c)
      }
    }
  }
  const timer = setInterval(watch, 50)
  let running = true
  const result = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code, signal) => {
      running = false
      clearInterval(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
  const killer = setTimeout(() => child.kill('SIGKILL'), 150_000)
  t.teardown(async () => {
    clearTimeout(killer)
    if (running) child.kill('SIGKILL')
    await result
    // never leave a server behind, even if the demo failed to
    for (const [p, start] of seen) if (stillSame(p, start)) signalPid(p, 'SIGKILL')
  })
  void result.then(() => clearTimeout(killer))
  return { pid, stdout: () => stdout, seen, result }
}

const stillSame = (pid: number, start: number) => {
  const s = readStat(pid)
  return s !== undefined && s.starttime === start && s.state !== 'Z' && s.state !== 'X'
}

export const leftovers = (seen: Map<number, number>) => [...seen].filter(([pid, start]) => stillSame(pid, start)).map(([pid]) => pid)

