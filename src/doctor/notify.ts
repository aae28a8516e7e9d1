/** doctor: can a run listen on the readiness address, and do the workers send their datagrams there? */
import { parseNotify, type NotifyAddress } from '../config.js'
import { RollingRestartError } from '../errors.js'
import { readEnviron } from '../proc/procfs.js'
import { ReadinessListener } from '../readiness/listener.js'
import type { Resolved } from '../servers/resolve.js'
import type { Hazard } from '../servers/types.js'

/** `address` gives the address the runs listen on (it throws for a bad --notify or ROLLING_RESTART_NOTIFY). */
export async function notifyHazards(resolved: Resolved, address: () => NotifyAddress): Promise<Hazard[]> {
  const out: Hazard[] = []
  let listen: NotifyAddress
  try {
    listen = address()
  } catch (err) {
    return [{ id: 'notify-invalid', severity: 'error', message: (err as Error).message, fix: 'give --notify HOST:PORT' }]
  }
  const where = `${listen.host}:${listen.port}`
  try {
    const l = await ReadinessListener.open(listen, {}, () => undefined)
    await l.close()
  } catch (err) {
    out.push({
      id: 'notify-port-in-use',
      severity: 'error',
      message: `cannot listen on the readiness address ${where}: ${err instanceof RollingRestartError ? err.message : (err as Error).message}`,
      fix: `wait for the run that holds it, or give this group its own port: --notify HOST:PORT and the same ROLLING_RESTART_NOTIFY in the server's environment`,
    })
  }
  // Where the workers will send: the server's ROLLING_RESTART_NOTIFY, when its environment is readable.
  const env = readEnviron(resolved.target.masterPid)
  const theirs = env && Object.keys(env).length > 0 ? (env.ROLLING_RESTART_NOTIFY ?? '127.0.0.1:4012') : null
  if (theirs !== null) {
    if (theirs.toLowerCase() === 'off') {
      out.push({
        id: 'notify-off',
        severity: 'error',
        message: `${resolved.target.description} runs with ROLLING_RESTART_NOTIFY=off: its workers send no readiness datagram`,
        fix: `set ROLLING_RESTART_NOTIFY=${where} in the server's environment and restart the master once`,
      })
    } else {
      let parsed = null
      try {
        parsed = parseNotify('ROLLING_RESTART_NOTIFY', theirs)
      } catch {
        parsed = null
      }
      if (!parsed || parsed.port !== listen.port || !sameHost(parsed.host, listen.host)) {
        out.push({
          id: 'notify-mismatch',
          severity: 'error',
          message: `the workers of ${resolved.target.description} send their datagrams to ${theirs} (ROLLING_RESTART_NOTIFY), but runs listen on ${where}`,
          fix: `run rolling-restart with --notify ${theirs}, or set ROLLING_RESTART_NOTIFY=${where} in the server's environment`,
        })
      }
    }
  }
  return out
}

function sameHost(a: string, b: string): boolean {
  const norm = (h: string) => (h === 'localhost' ? '127.0.0.1' : h)
  return norm(a) === norm(b) || norm(a) === '0.0.0.0' || norm(b) === '0.0.0.0'
}

