/**
 * The one side effect of the HAProxy client: one command over the unix stats socket. HAProxy's
 * non-interactive mode answers a single line and then closes the connection, so the answer is
 * everything read until the close. Connection failures become TargetErrors that say what to check.
 */
import { createConnection } from 'node:net'
import { TargetError } from '../errors.js'

export type SendCommand = (socketPath: string, command: string, timeoutMs: number) => Promise<string>

export const sendCommand: SendCommand = (socketPath, command, timeoutMs) => {
  if (/[\r\n]/.test(command)) throw new Error(`an HAProxy command is one line: ${JSON.stringify(command)}`)
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let failure: Error | undefined
    const socket = createConnection({ path: socketPath })
    const timer = setTimeout(() => {
      failure = notAnswering(socketPath, command, timeoutMs)
      socket.destroy()
    }, timeoutMs)
    socket.on('connect', () => socket.write(`${command}\n`))
    socket.on('data', (chunk) => chunks.push(chunk))
    socket.on('error', (err: NodeJS.ErrnoException) => (failure ??= connectError(socketPath, err)))
    socket.on('close', () => {
      clearTimeout(timer)
      if (failure) reject(failure)
      else resolve(Buffer.concat(chunks).toString('utf8'))
    })
  })
}

const SOCKET_LINE = (path: string): string => `"stats socket ${path} level admin"`

export function connectError(socketPath: string, err: NodeJS.ErrnoException): TargetError {
  const at = `--haproxy-socket ${socketPath}`
  switch (err.code) {
    case 'ENOENT':
      return new TargetError(
        `${at}: no such socket: is HAProxy running, and does the global section of haproxy.cfg have ${SOCKET_LINE(socketPath)}?`,
        'haproxy-socket',
      )
    case 'ECONNREFUSED':
      return new TargetError(
        `${at}: connection refused: the socket file exists but no HAProxy listens on it (stopped, or now using another socket path)`,
        'haproxy-socket',
      )
    case 'EACCES':
    case 'EPERM':
      return new TargetError(
        `${at}: permission denied: run as a user that may write to the socket, or give the stats socket line "mode", "user" or "group"`,
        'haproxy-socket',
      )
    case 'ENOTSOCK':
      return new TargetError(`${at}: not a unix socket: point it at the path of a "stats socket" line`, 'haproxy-socket')
    default:
      return new TargetError(`${at}: ${err.code ?? 'error'}: ${err.message}`, 'haproxy-socket')
  }
}

export function notAnswering(socketPath: string, command: string, timeoutMs: number): TargetError {
  return new TargetError(
    `HAProxy did not answer "${command}" on --haproxy-socket ${socketPath} within ${timeoutMs} ms: is it overloaded or stopped?`,
    'haproxy-timeout',
  )
}
