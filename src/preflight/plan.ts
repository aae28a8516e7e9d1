/**
 * How to run the preflight for a group: the way its workers will load the app, as far as we can see
 * it from outside.
 *
 *   interpreter   --preflight-python; the adapter's; the master's argv[0] when it has no process
 *                 title (a venv's bin/python when started as /srv/venv/bin/gunicorn or uvicorn);
 *                 the venv of its argv[1] script; $VIRTUAL_ENV/bin/python; the interpreter the
 *                 hook recorded at start (proc/master-record.ts); a virtualenv whose
 *                 site-packages the master has mapped; /proc/PID/exe (symlinks resolved, so a
 *                 virtualenv would be lost: last)
 *   directory     the adapter's chdir (Gunicorn chdir), else /proc/PID/cwd; for a deploy, the same
 *                 directory inside the new release
 *   environment   /proc/PID/environ, plus what the server sets itself (Gunicorn raw_env), with the
 *                 hook's directory first on PYTHONPATH. setproctitle blanks /proc/PID/environ unless
 *                 the server runs with SPT_NOENV=1; then the environment the hook recorded at start,
 *                 and only without a record rolling-restart's own environment
 *   user          a worker's uid/gid, when rolling-restart is root and the workers are not
 *   app           --preflight-app, else the adapter's appSpec() (which reads the hook's record when
 *                 a title hides the command line), else the APP= a worker reported in an earlier
 *                 run; none: the plan says why, and the run refuses (preflight-step.ts)
 */
import { existsSync, realpathSync } from 'node:fs'
import { basename, delimiter, isAbsolute, join, resolve } from 'node:path'
import { hookPath } from '../paths.js'
import { masterRecord, type MasterRecord } from '../proc/master-record.js'
import { mappedFiles, procInfo, readCwd, readEnviron, readExe, readOwner } from '../proc/procfs.js'
import { isWithin, rebase, type ReleaseLayout } from '../release/layout.js'
import { venvOfFile } from '../servers/shared/venv.js'
import type { AppSpec, ServerAdapter, Target } from '../servers/types.js'
import type { PreflightInvocation } from './run.js'

export interface PreflightOptions {
  /** --preflight-app */
  app?: string | undefined
  /** --preflight-python */
  python?: string | undefined
  timeoutMs: number
  /** --preflight-always: run it even when the running workers vouch for the code on disk */
  always?: boolean | undefined
  /** the app spec the group's workers reported in an earlier run (the hook's APP field) */
  learned?: { spec: string; from: string } | undefined
}

/** For a deploy: load the app from the new release instead of what `current` points at now. */
export interface ReleaseUnderTest {
  layout: ReleaseLayout
  /** ROOT/releases/NAME */
  dir: string
}

export type PreflightPlan =
  | {
      kind: 'run'
      invocation: PreflightInvocation
      /** for the log and the report: where each part came from */
      sources: { spec: string; python: string; env: string; chdir: string }
    }
  /** the app or the interpreter cannot be known: `why`, and `fix` names the flag that would tell */
  | { kind: 'skip'; why: string; fix: string }

export function planPreflight(adapter: ServerAdapter, target: Target, opts: PreflightOptions, release?: ReleaseUnderTest): PreflightPlan {
  const app: AppSpec = adapter.appSpec?.(target) ?? { spec: null, why: `${adapter.label} cannot tell how ${target.description} loads its app` }
  const spec = opts.app ?? app.spec ?? opts.learned?.spec
  if (spec === null || spec === undefined) {
    return { kind: 'skip', why: app.why ?? `the app spec of ${target.description} is unknown`, fix: '--preflight-app MODULE:CALLABLE (or a .wsgi path)' }
  }
  const record = masterRecord(target.masterPid)
  const python = pythonOf(target.masterPid, app.python, opts.python, record)
  if (!python) {
    return {
      kind: 'skip',
      why: `cannot tell which Python interpreter ${target.description} runs (its executable is ${readExe(target.masterPid) ?? 'unreadable'})`,
      fix: '--preflight-python PATH',
    }
  }

  const masterCwd = readCwd(target.masterPid)
  let chdir = app.chdir && existsSync(app.chdir) ? app.chdir : (masterCwd ?? '/')
  let chdirFrom = app.chdir && existsSync(app.chdir) ? `the server's chdir` : "the master's working directory"
  const masterEnv = readEnviron(target.masterPid)
  const envReadable = masterEnv !== null && Object.keys(masterEnv).length > 0
  const recordedEnv = !envReadable && record && Object.keys(record.env).length > 0 ? record.env : null
  const env: Record<string, string> = { ...(envReadable ? masterEnv : (recordedEnv ?? stringEnv(process.env))), ...(app.env ?? {}) }
  let pythonpath = [...(app.pythonpath ?? [])]
  let envPath = (env.PYTHONPATH ?? '').split(delimiter).filter(Boolean)

  if (release) {
    const moved = intoRelease(chdir, release)
    if (moved !== chdir) {
      chdirFrom = `${chdirFrom} (${chdir}), inside the new release`
      chdir = moved
    } else {
      chdir = release.dir
      chdirFrom = 'the new release'
    }
    pythonpath = pythonpath.map((p) => intoRelease(p, release))
    envPath = envPath.map((p) => intoRelease(p, release))
  }
  env.PYTHONPATH = [hookPath(), ...envPath].join(delimiter)
  // a preflight run as root must not leave root-owned __pycache__ in the release
  env.PYTHONDONTWRITEBYTECODE = '1'

  const ids = runAs(adapter, target)
  return {
    kind: 'run',
    invocation: { python: python.path, spec, chdir, pythonpath, env, uid: ids?.uid, gid: ids?.gid, timeoutMs: opts.timeoutMs },
    sources: {
      spec: opts.app !== undefined ? '--preflight-app' : app.spec ? (app.from ?? adapter.label) : (opts.learned?.from ?? adapter.label),
      python: python.from,
      env: envReadable
        ? "the master's environment"
        : recordedEnv && record
          ? `the environment the hook recorded when the ${record.pid === target.masterPid ? 'master' : `process ${record.pid}`} started (${record.from})`
          : "rolling-restart's own environment (the master's /proc/PID/environ is blank: setproctitle clears it unless the server runs with SPT_NOENV=1)",
      chdir: chdirFrom,
    },
  }
}

/** ROOT/current/x -> ROOT/releases/NEW/x; ROOT/releases/OLD/x (real paths) -> ROOT/releases/NEW/x. */
function intoRelease(path: string, release: ReleaseUnderTest): string {
  if (isWithin(path, release.layout.current)) return rebase(path, release.layout.current, release.dir)
  const real = realpathOrNull(path)
  const releases = realpathOrNull(release.layout.releases) ?? release.layout.releases
  if (real && isWithin(real, releases)) {
    const rest = real.slice(releases.length + 1).split('/')
    return join(release.dir, ...rest.slice(1))
  }
  return path
}

function realpathOrNull(p: string): string | null {
  try {
    return realpathSync(p)
  } catch {
    return null
  }
}

function stringEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v
  return out
}

const PYTHON_NAME = /^python[0-9.]*$/

/** argv[0] as the kernel found it: absolute, relative to the cwd, or looked up on the process's PATH. */
export function commandPath(argv0: string, env: Record<string, string> | null, cwd: string | null, exists: (p: string) => boolean = existsSync): string | null {
  if (isAbsolute(argv0)) return argv0
  if (argv0.includes('/')) return cwd ? resolve(cwd, argv0) : null
  for (const dir of (env?.PATH ?? '').split(delimiter)) {
    if (dir && isAbsolute(dir) && exists(join(dir, argv0))) return join(dir, argv0)
  }
  return null
}

/**
 * Which interpreter the server runs, keeping a virtualenv when there is one: a venv's bin/python
 * is a symlink to the system Python, so /proc/PID/exe alone would lose the venv's packages.
 */
export function pythonOf(masterPid: number, fromAdapter?: string, explicit?: string, record?: MasterRecord | null): { path: string; from: string } | null {
  if (explicit) return { path: explicit, from: '--preflight-python' }
  if (fromAdapter) return { path: fromAdapter, from: 'the server configuration' }
  const p = procInfo(masterPid)
  const env = readEnviron(masterPid)
  const argv0 = p?.argv[0] && PYTHON_NAME.test(basename(p.argv[0])) ? commandPath(p.argv[0], env, readCwd(masterPid)) : null
  if (argv0 && existsSync(argv0)) return { path: argv0, from: "the master's command line" }
  // `/srv/venv/bin/gunicorn` started by its shebang shows as `/srv/venv/bin/python /srv/venv/bin/gunicorn`; as argv[1] it names the venv too
  const scriptVenv = p?.argv[1] ? venvOfFile(p.argv[1]) : null
  if (scriptVenv && existsSync(join(scriptVenv, 'bin', 'python'))) return { path: join(scriptVenv, 'bin', 'python'), from: `the virtualenv of ${p?.argv[1]}` }
  const venv = env?.VIRTUAL_ENV
  if (venv && existsSync(join(venv, 'bin', 'python'))) return { path: join(venv, 'bin', 'python'), from: "the master's VIRTUAL_ENV" }
  if (record?.interpreter && existsSync(record.interpreter)) return { path: record.interpreter, from: `the interpreter the hook recorded at start (${record.from})` }
  const fromMaps = venvFromMaps(mappedFiles(masterPid))
  if (fromMaps) return { path: fromMaps, from: 'the virtualenv whose modules the master has loaded' }
  const exe = readExe(masterPid)
  if (exe && PYTHON_NAME.test(basename(exe))) return { path: exe, from: "the master's executable" }
  return null
}

/** A mapped extension module under PREFIX/lib/pythonX.Y/site-packages with PREFIX/pyvenv.cfg: PREFIX/bin/python. */
export function venvFromMaps(files: readonly string[], exists: (p: string) => boolean = existsSync): string | null {
  for (const f of files) {
    const m = /^(.+)\/lib\/python3(?:\.\d+)?\/site-packages\//.exec(f)
    if (!m) continue
    const prefix = m[1] as string
    const python = join(prefix, 'bin', 'python')
    if (exists(join(prefix, 'pyvenv.cfg')) && exists(python)) return python
  }
  return null
}

/** As root, run as the user the workers run as (they are the ones that import the app). */
function runAs(adapter: ServerAdapter, target: Target): { uid: number; gid: number } | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null
  const worker = adapter.workers(target)[0]
  const owner = (worker ? readOwner(worker.pid) : null) ?? readOwner(target.masterPid)
  if (!owner || owner.uid === 0) return null
  return owner
}
