/**
 * Apache mod_wsgi daemon process groups. (Placeholder: filled in by the mod_wsgi work, issue 3.)
 */
import type { ServerAdapter, Target } from './types.js'

export const modWsgi: ServerAdapter = {
  kind: 'mod_wsgi',
  label: 'Apache mod_wsgi',
  stopSignal: 'SIGUSR1',
  canSurge: false,
  resolve() {
    return null
  },
  workers() {
    return []
  },
  masterGoneHint(target: Target) {
    return `the Apache parent of ${target.description} exited`
  },
  noReadyHint(target: Target) {
    return `no readiness datagram arrived from a new daemon process of ${target.description}`
  },
  wrongReleaseHint() {
    return 'the daemon process loaded old code'
  },
}
