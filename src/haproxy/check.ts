/**
 * Before anything is changed: the socket answers at level admin, and every --haproxy-server names a
 * server HAProxy knows. A run that fails here has set no server to drain and signalled nothing.
 */
import { noServer, notAdmin } from './failures.js'
import type { HaproxyRuntime } from './runtime.js'
import { serverName, type HaproxyServer } from './server-ref.js'
import type { ServerState } from './servers-state.js'

/** The current state of each server, keyed by BACKEND/SERVER. */
export async function checkServers(
  runtime: HaproxyRuntime,
  servers: readonly HaproxyServer[],
): Promise<Map<string, ServerState>> {
  const level = await runtime.cliLevel()
  // null: an HAProxy without `show cli level`; then the first `set server` says "Permission denied".
  if (level !== null && level !== 'admin') throw notAdmin(runtime.socketPath, level)
  const found = new Map<string, ServerState>()
  const byBackend = new Map<string, ServerState[]>()
  for (const ref of servers) {
    let listed = byBackend.get(ref.backend)
    if (!listed) {
      listed = await runtime.serversState(ref.backend, ref)
      byBackend.set(ref.backend, listed)
    }
    const state = listed.find((s) => s.server === ref.server)
    if (!state) throw noServer(ref, runtime.socketPath, null, listed.map((s) => s.server))
    found.set(serverName(ref), state)
  }
  return found
}
