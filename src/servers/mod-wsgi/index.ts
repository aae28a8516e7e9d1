/**
 * Apache mod_wsgi daemon process groups (`WSGIDaemonProcess app:blue processes=3 display-name=%{GROUP}`).
 *
 * The Apache parent forks the daemon processes of every group and restarts any that exits. With
 * display-name=%{GROUP} they are titled `(wsgi:NAME)`, cut to the length of Apache's argv[0]
 * (titles.ts); a cut title is accepted only when no other group of that Apache would show the same
 * characters (match-group.ts).
 *
 * Signals (wsgi_signal_handler): SIGUSR1 (AP_SIG_GRACEFUL) asks one daemon process to finish its
 * requests and exit ("Process eviction requested"); SIGINT and SIGTERM shut it down at once. The
 * Apache parent then starts a replacement with the same title. There is no way to ask for one more
 * process, so no surge.
 */
import type { Readiness } from '../../readiness/protocol.js'
import type { ServerAdapter, Target } from '../types.js'
import { workers, workersAmong } from './apache-processes.js'
import { appSpec } from './app-spec.js'
import { findAll, resolve } from './find-target.js'
import { hazards } from './hazards.js'
import { masterGoneHint, noReadyHint, wrongReleaseHint } from './hints.js'
import { notFoundHint } from './not-found.js'

export { evidenceFor, type LogEvidence } from './log-evidence.js'
export { daemonTitle, groupOfTitle, isTruncated } from './titles.js'

export const modWsgi: ServerAdapter = {
  kind: 'mod_wsgi',
  label: 'Apache mod_wsgi',
  stopSignal: 'SIGUSR1',
  canSurge: false,
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
  groupMatches(target: Target, r: Readiness): boolean {
    return r.group === target.group
  },
  requestCounts: async () => ({
    byPid: null,
    why: 'not exposed by mod_wsgi: its request metrics (mod_wsgi.request_metrics()) can be read only from inside each daemon process',
  }),
}
