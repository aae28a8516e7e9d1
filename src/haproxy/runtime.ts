/**
 * The runtime API commands the drain needs, over one stats socket: each call is one connection and
 * one command, and each answer is read into data or into a typed error naming the fix.
 */
import { answerText, firstLine, problemOf, setProblem } from './answers.js'
import { HAPROXY_DEFAULTS } from './defaults.js'
import { noBackend, noServer, notAdmin, refusedCommand, unreadable } from './failures.js'
import { serverName, type HaproxyServer } from './server-ref.js'
import { parseServersState, type ServerState } from './servers-state.js'
import { sendCommand as realSend, type SendCommand } from './socket.js'
import { parseStat, type ServerStat } from './stat.js'

export interface RuntimeOptions {
  commandTimeoutMs?: number
  /** the transport; tests pass a fake */
  send?: SendCommand
}

export interface HaproxyRuntime {
  readonly socketPath: string
  /** 'admin', 'operator' or 'user'; null when this HAProxy has no `show cli level` (before 2.0) */
  cliLevel(): Promise<string | null>
  /** Every server of `backend`, with its admin and operational state. */
  serversState(backend: string, ref?: HaproxyServer): Promise<ServerState[]>
  /** Current sessions and status text of every server of `backend`. */
  stat(backend: string, ref?: HaproxyServer): Promise<ServerStat[]>
  /** `set server BACKEND/SERVER state drain|ready|maint`. */
  setState(ref: HaproxyServer, state: 'drain' | 'ready' | 'maint'): Promise<void>
  /** Backend names, for error messages; [] if they cannot be read. */
  backends(): Promise<string[]>
}

export function haproxyRuntime(socketPath: string, options: RuntimeOptions = {}): HaproxyRuntime {
  const timeoutMs = options.commandTimeoutMs ?? HAPROXY_DEFAULTS.commandTimeoutMs
  const send = options.send ?? realSend
  const ask = (command: string): Promise<string> => send(socketPath, command, timeoutMs)

  /** Turns a known error answer into its typed error; `ref` names the --haproxy-server it was for. */
  const failOn = async (command: string, raw: string, ref?: HaproxyServer): Promise<never> => {
    const problem = problemOf(raw) ?? 'other'
    const said = firstLine(raw)
    if (problem === 'permission') throw notAdmin(socketPath, (await runtime.cliLevel()) ?? 'below admin')
    if (problem === 'no-backend' && ref) throw noBackend(ref, socketPath, said, await runtime.backends())
    if (problem === 'no-server' && ref) throw noServer(ref, socketPath, said, await serverNames(ref.backend))
    if (problem === 'other') throw unreadable(command, socketPath, raw)
    throw refusedCommand(command, socketPath, said)
  }

  const serverNames = async (backend: string): Promise<string[]> =>
    runtime.serversState(backend).then(
      (list) => list.map((s) => s.server),
      () => [],
    )

  const runtime: HaproxyRuntime = {
    socketPath,
    async cliLevel() {
      const raw = await ask('show cli level')
      if (problemOf(raw) === 'unknown-command') return null
      return answerText(raw) || null
    },
    async serversState(backend, ref) {
      const command = `show servers state ${backend}`
      const raw = await ask(command)
      return parseServersState(raw) ?? failOn(command, raw, ref)
    },
    async stat(backend, ref) {
      const command = `show stat ${backend} 4 -1`
      const raw = await ask(command)
      return parseStat(raw) ?? failOn(command, raw, ref)
    },
    async setState(ref, state) {
      const command = `set server ${serverName(ref)} state ${state}`
      const raw = await ask(command)
      if (setProblem(raw) !== null) await failOn(command, raw, ref)
    },
    async backends() {
      try {
        const lines = answerText(await ask('show backend')).split('\n')
        return lines.filter((l) => l !== '' && !l.startsWith('#'))
      } catch {
        return []
      }
    },
  }
  return runtime
}
