/**
 * Apache uWSGI. (Placeholder: filled in by the mod_wsgi work, issue 3.)
 */
import type { ServerAdapter, Target } from './types.js'

export const uwsgi: ServerAdapter = {
  kind: 'uwsgi',
  label: 'uWSGI',
  stopSignal: 'SIGHUP',
  canSurge: false,
  resolve() {
    return null
  },
  workers() {
    return []
  },
  masterGoneHint(target: Target) {
    return `the master of ${target.description} exited`
  },
  noReadyHint(target: Target) {
    return `no readiness datagram arrived from a new worker of ${target.description}`
  },
  wrongReleaseHint() {
    return 'the daemon process loaded old code'
  },
}
