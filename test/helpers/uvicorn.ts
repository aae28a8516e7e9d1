// A real Uvicorn `--workers N` supervisor from a venv for integration tests. Uvicorn sets no process
// titles: the supervisor keeps `python .../bin/uvicorn APP --workers N ...`, and each worker, started
// by multiprocessing's spawn, reads `python -c 'from multiprocessing.spawn import spawn_main; ...'
// --multiprocessing-fork`. The supervisor also has a resource-tracker child, which is not a worker.
import { join } from 'node:path'
import { pythonEnv } from './env.js'
import { answers200 } from './http.js'
import { argv, childrenOf, WaitAborted, waitFor } from './procs.js'
import { freePort } from './ports.js'
import { errorWithLog, spawnLogged } from './spawn.js'
import { tempDir, type Teardown } from './tmp.js'
import { stopTree, trackChildren } from './tracker.js'
import { venvCommand, type VenvName } from './venvs.js'

export interface UvicornOptions {
  /** The directory the supervisor runs in (its app dir). */
  appDir: string
  /** The app spec, e.g. fastapi_app:app. */
  app: string
  workers?: number
  venv?: VenvName
  /** UDP port for the readiness hook (ROLLING_RESTART_NOTIFY); omitted = 'off'. */
  notifyPort?: number
  env?: Record<string, string>
  /** Arguments after the app (e.g. --timeout-graceful-shutdown 20). */
  args?: string[]
  startTimeoutMs?: number
}

export interface Uvicorn {
  supervisorPid: number
  port: number
  logFile: string
  /** Live workers of the supervisor (its spawned children), ascending. */
  workerPids(): number[]
  stop(): Promise<void>
}

const isWorker = (pid: number): boolean => argv(pid).includes('--multiprocessing-fork')

export const startUvicorn = async (t: Teardown, options: UvicornOptions): Promise<Uvicorn> => {
  const o = { workers: 3, venv: 'uvicorn-standard' as VenvName, args: [] as string[], startTimeoutMs: 60_000, ...options }
  const dir = tempDir(t, 'uvicorn')
  const port = await freePort()
  const logFile = join(dir, 'uvicorn.log')
  const env = pythonEnv({ path: [o.appDir], notifyPort: o.notifyPort, env: o.env })
  const [exe, ...pre] = venvCommand(o.venv, 'uvicorn') as [string, ...string[]]
  const args = [...pre, o.app, '--workers', String(o.workers), '--host', '127.0.0.1', '--port', String(port), ...o.args]
  const server = spawnLogged(exe, args, { env, cwd: o.appDir, logFile })
  const supervisorPid = server.pid
  const tracker = trackChildren(supervisorPid)
  let stopping: Promise<void> | undefined
  const stop = (): Promise<void> => (stopping ??= stopTree({ masterPid: supervisorPid, tracker, label: `uvicorn ${o.app}` }))
  t.teardown(stop)
  const workerPids = (): number[] => childrenOf(supervisorPid).filter(isWorker)
  try {
    await waitFor(
      async () => {
        const ended = server.exit()
        if (ended) throw new WaitAborted(`uvicorn exited during start (code ${ended.code}, signal ${ended.signal})`)
        tracker.poll()
        return workerPids().length === o.workers && (await answers200(port, '/'))
      },
      { timeoutMs: o.startTimeoutMs, intervalMs: 200, what: `uvicorn ${o.app} to have ${o.workers} workers and answer GET / with 200 on port ${port}` },
    )
  } catch (error) {
    await stop()
    throw errorWithLog((error as Error).message, logFile)
  }
  return { supervisorPid, port, logFile, workerPids, stop }
}
