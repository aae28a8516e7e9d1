/**
 * The errors the HAProxy drain raises on purpose, each saying what is wrong and what to do. A
 * wrong socket, a socket below level admin and a name HAProxy does not know are all "target not
 * found or not permitted" (exit 3): nothing is signalled after any of them.
 */
import { TargetError } from '../errors.js'
import { FLAG, serverName, type HaproxyServer } from './server-ref.js'

const quoteAnswer = (said: string): string => JSON.stringify(said.trim())

export const notAdmin = (socketPath: string, level: string): TargetError =>
  new TargetError(
    `--haproxy-socket ${socketPath} is a level "${level}" socket, and setting a server to drain needs level admin: ` +
      `add "level admin" to the "stats socket ${socketPath}" line in haproxy.cfg and reload HAProxy`,
    'haproxy-not-admin',
  )

export const noBackend = (ref: HaproxyServer, socketPath: string, said: string, known: string[]): TargetError =>
  new TargetError(
    `${FLAG} ${serverName(ref)}: HAProxy (${socketPath}) has no backend "${ref.backend}" (it said ${quoteAnswer(said)}): ` +
      `use a backend name from haproxy.cfg${listed('backends', known)}`,
    'haproxy-no-backend',
  )

/** `said` is HAProxy's answer to a `set server`, or null when `show servers state` simply did not list it. */
export const noServer = (ref: HaproxyServer, socketPath: string, said: string | null, known: string[]): TargetError =>
  new TargetError(
    `${FLAG} ${serverName(ref)}: backend "${ref.backend}" has no server "${ref.server}" (HAProxy ${socketPath} ` +
      `${said === null ? 'lists none by that name' : `said ${quoteAnswer(said)}`}): ` +
      `use a server name of that backend${listed(`servers of ${ref.backend}`, known)}`,
    'haproxy-no-server',
  )

export const refusedCommand = (command: string, socketPath: string, said: string): TargetError =>
  new TargetError(`HAProxy (${socketPath}) refused "${command}": it said ${quoteAnswer(said)}`, 'haproxy-refused')

export const unreadable = (command: string, socketPath: string, said: string): TargetError =>
  new TargetError(
    `HAProxy (${socketPath}) answered "${command}" with something this tool cannot read: ${quoteAnswer(said.slice(0, 200))}`,
    'haproxy-answer',
  )

const listed = (what: string, names: string[]): string => (names.length > 0 ? ` (${what}: ${names.join(', ')})` : '')
