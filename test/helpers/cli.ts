// Running the rolling-restart CLI (bin/rolling-restart, which imports the compiled dist/) as a
// child process, the way deploy scripts do. Tests run after `npm run build`.
import { spawn } from 'node:child_process'
import { binPath } from './paths.js'
import type { Teardown } from './tmp.js'

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** stdout parsed as JSON, when it is JSON (e.g. with --json). */
  json?: unknown
  /** True if the run was killed for exceeding timeoutMs. */
  timedOut: boolean
}

export interface CliOptions {
  env?: Record<string, string>
  /** Killed (SIGKILL) after this long; default 180 s. */
  timeoutMs?: number
  cwd?: string
  /** If given, the child is killed in this test's teardown should it still be running. */
  t?: Teardown
  /** Run the CLI as this user (the test runs as root). */
  user?: { uid: number; gid: number }
}

export interface CliRun {
  pid: number
  result: Promise<CliResult>
  /** Sends a signal to the CLI (e.g. SIGINT to test interruption). */
  kill(signal?: NodeJS.Signals): void
}

const parseJson = (text: string): unknown => {
  try {
    return text.trim() ? JSON.parse(text) : undefined
  } catch {
    return undefined
  }
}

/** Starts `node bin/rolling-restart ...args` and returns at once. */
export const spawnCli = (args: string[], { env = {}, timeoutMs = 180_000, cwd, t, user }: CliOptions = {}): CliRun => {
  // Drop tap's NODE_OPTIONS (its TypeScript loader): the CLI runs compiled JavaScript.
  const { NODE_OPTIONS: _ignored, ...base } = process.env
  // As another user, also keep tap's process-info hook (which re-adds NODE_OPTIONS) out: it could not write its report
  const [command, argv] = user ? ['/usr/bin/env', ['-u', 'NODE_OPTIONS', process.execPath, binPath, ...args]] : [process.execPath, [binPath, ...args]]
  const child = spawn(command, argv, {
    env: { ...base, ...env },
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...user,
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  let timedOut = false
  let running = true
  const timer = setTimeout(() => {
    timedOut = true
    child.kill('SIGKILL')
  }, timeoutMs)
  const result = new Promise<CliResult>((resolve, reject) => {
    child.on('error', (error) => {
      running = false
      clearTimeout(timer)
      reject(error)
    })
    child.on('close', (code, signal) => {
      running = false
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr, json: parseJson(stdout), timedOut })
    })
  })
  t?.teardown(async () => {
    if (!running) return
    child.kill('SIGKILL')
    await result.catch(() => undefined)
  })
  if (child.pid === undefined) throw new Error(`could not start ${process.execPath} ${binPath}`)
  return { pid: child.pid, result, kill: (signal = 'SIGTERM') => void child.kill(signal) }
}

/** Runs the CLI to completion. */
export const runCli = (args: string[], options: CliOptions = {}): Promise<CliResult> => spawnCli(args, options).result
