/**
 * Uvicorn's own supervisor: `uvicorn main:app --workers N`, and `fastapi run --workers N`, which
 * runs the same one (uvicorn/supervisors/multiprocess.py, 0.54). How its processes are told apart:
 * processes.ts; how its group is named: naming.ts.
 *
 * Signals: SIGTERM (or SIGINT) to a worker is its graceful stop: it stops accepting, finishes its
 * requests and exits (with the hook, after draining its keep-alive connections). The supervisor's
 * health loop, every 0.5 s, finds the worker dead and spawns a replacement in its slot. A worker
 * that exits with STARTUP_FAILURE (3) stops the whole supervisor. TTIN adds a worker, but TTOU
 * stops the *newest* one (processes.pop()), which would retire the replacement a surge just
 * started: no surge. HUP replaces every worker at once without waiting for readiness beyond
 * Uvicorn's own started flag: never sent.
 */
import type { ServerAdapter } from '../types.js'
import { appSpec } from './app-spec.js'
import { findAll, notFoundHint, resolve } from './find-supervisor.js'
import { hazards } from './hazards.js'
import { masterGoneHint, noReadyHint, wrongReleaseHint } from './hints.js'
import { workers, workersAmong } from './processes.js'

export { commandOf, parseUvicornArgs, reportedSpec, type UvicornArgs } from './args.js'
export { isResourceTracker, isSpawnWorker } from './processes.js'

export const uvicorn: ServerAdapter = {
  kind: 'uvicorn',
  label: 'Uvicorn',
  stopSignal: 'SIGTERM',
  canSurge: false,
  noSurgeReason: "it starts one more worker on TTIN, but on TTOU it stops the newest, which would be the replacement a surge just started",
  resolve,
  findAll,
  workers,
  workersAmong,
  notFoundHint,
  masterGoneHint,
  noReadyHint,
  wrongReleaseHint,
  hazards,
  appSpec,
  requestCounts: async () => ({ byPid: null, why: "not exposed by Uvicorn: its supervisor keeps no count of its workers' requests" }),
}
