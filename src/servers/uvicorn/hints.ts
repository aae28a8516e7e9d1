/** Why a roll step failed, in Uvicorn's terms: the supervisor stopped, no readiness datagram, an old release. */
import { readCwd } from '../../proc/procfs.js'
import type { Target } from '../types.js'

export function masterGoneHint(): string {
  return (
    "Uvicorn's supervisor stops when a new worker exits with STARTUP_FAILURE (3): the app spec does not import " +
    '(no such module or attribute), lifespan startup failed, or the socket could not be bound. Check its log, fix the ' +
    'release and start it again. The preflight (on by default) loads the release in a throwaway interpreter, with lifespan ' +
    'startup, before any worker is touched'
  )
}

export function noReadyHint(target: Target): string {
  return (
    `no readiness datagram arrived from a new worker of ${target.description}. Check that the module that defines the app ends with ` +
    '`from rolling_restart_hook.asgi import notify_ready; app = notify_ready(app)`, that the hook is importable by the ' +
    "supervisor's Python (PYTHONPATH, or `pip install ./python-hooks` into its virtualenv), that ROLLING_RESTART_NOTIFY in its " +
    "environment matches --notify, and Uvicorn's log: a worker that raises while importing the app exits with code 1 and the " +
    'supervisor starts another every half second, none of which reports'
  )
}

export function wrongReleaseHint(target: Target): string {
  const cwd = readCwd(target.masterPid)
  return (
    "Uvicorn's workers are spawned in the supervisor's working directory as os.getcwd() gives it (a real path, never a symlink)" +
    (cwd ? `, here ${cwd}` : '') +
    ", and import the app from --app-dir (default '.', that directory): a supervisor started inside a `current` symlink keeps " +
    'loading the release current pointed to then. Start it with --app-dir set to the symlink path (--app-dir /srv/app/current) ' +
    'and restart the supervisor once'
  )
}
