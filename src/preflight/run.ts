/**
 * Run `python -m rolling_restart_hook.preflight SPEC` and read its verdict.
 *
 * The preflight (python-hooks/rolling_restart_hook/preflight.py) prints KEY=VALUE lines (READY,
 * STATUS, RELEASE, ROOT) and exits 0 (status page 2xx), 1 (probe failed) or 2 (import or lookup
 * failed, traceback on stderr). No READY line at all means it never got that far: the interpreter
 * is missing, or the hook package is not importable.
 */
import { spawn } from 'node:child_process'
import { errnoCode } from '../errors.js'

export interface PreflightInvocation {
  python: string
  spec: string
  chdir: string
  pythonpath: string[]
  env: Record<string, string>
  /** run as this user and group (when rolling-restart is root and the server is not) */
  uid?: number | undefined
  gid?: number | undefined
  timeoutMs: number
}

export interface PreflightFields {
  ready: boolean
  status: string | null
  release: string | null
  root: string | null
}

export interface PreflightResult {
  /** the preflight printed its verdict (a READY line); false: it did not start, or was killed */
  started: boolean
  ok: boolean
  fields: PreflightFields | null
  exitCode: number | null
  signal: string | null
  timedOut: boolean
  /** the last lines of stderr (the traceback) */
  stderrTail: string[]
  /** spawn failed (ENOENT, EACCES) */
  spawnError: string | null
  durationMs: number
}

const MAX_OUTPUT = 256 * 1024
const TAIL_LINES = 12

/** KEY=VALUE lines -> the verdict, or null when there is no READY line. Pure. */
export function parsePreflightOutput(stdout: string): PreflightFields | null {
  const fields = new Map<string, string>()
  for (const line of stdout.split('\n')) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.replace(/\r$/, ''))
    if (m && !fields.has(m[1] as string)) fields.set(m[1] as string, m[2] as string)
  }
  const ready = fields.get('READY')
  if (ready !== '0' && ready !== '1') return null
  return {
    ready: ready === '1',
    status: fields.get('STATUS') ?? null,
    release: fields.get('RELEASE') || null,
    root: fields.get('ROOT') || null,
  }
}

/** The last non-empty lines of a text. Pure. */
export function tailLines(text: string, n = TAIL_LINES): string[] {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l !== '')
    .slice(-n)
}

/** The command line, for messages and logs. */
export function preflightArgs(inv: PreflightInvocation): string[] {
  const args = ['-m', 'rolling_restart_hook.preflight', inv.spec, '--chdir', inv.chdir]
  for (const p of inv.pythonpath) args.push('--pythonpath', p)
  // the preflight's own limit on the import; ours (below) also covers the probe and the interpreter start
  args.push('--import-timeout', String(Math.max(1, Math.floor(inv.timeoutMs / 1000))))
  return args
}

/** Run it; `abort` (Ctrl-C to rolling-restart) kills it and whatever it started. */
export function runPreflight(inv: PreflightInvocation, abort?: AbortSignal): Promise<PreflightResult> {
  const started = Date.now()
  return new Promise((resolveResult) => {
    let stdout = ''
    let stderr = ''
    let timedOut = false
    let spawnError: string | null = null
    let settled = false
    const child = spawn(inv.python, preflightArgs(inv), {
      cwd: inv.chdir,
      env: inv.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // its own process group, so a timeout also stops whatever the app started
      detached: true,
      ...(inv.uid !== undefined ? { uid: inv.uid } : {}),
      ...(inv.gid !== undefined ? { gid: inv.gid } : {}),
    })
    const kill = () => {
      if (child.pid === undefined) return
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
    // a few seconds beyond the preflight's own --import-timeout, so it can report that itself
    const timer = setTimeout(() => {
      timedOut = true
      kill()
    }, inv.timeoutMs + 5_000)
    abort?.addEventListener('abort', kill, { once: true })
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < MAX_OUTPUT) stdout += d
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr = (stderr + d).slice(-MAX_OUTPUT)
    })
    const done = (code: number | null, sig: string | null) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      abort?.removeEventListener('abort', kill)
      // the preflight os._exit()s; anything it left in its group goes with it
      kill()
      const fields = parsePreflightOutput(stdout)
      resolveResult({
        started: fields !== null,
        ok: fields !== null && fields.ready && code === 0,
        fields,
        exitCode: code,
        signal: sig,
        timedOut,
        stderrTail: tailLines(stderr),
        spawnError,
        durationMs: Date.now() - started,
      })
    }
    child.on('error', (err) => {
      spawnError = `${errnoCode(err) ?? 'error'}: ${err.message}`
      done(null, null)
    })
    child.on('close', (code, sig) => done(code, sig))
  })
}
