// One HTTP GET to loopback only: over a fresh connection, or over a keep-alive agent's.
import { request, type Agent } from 'node:http'
import type { Socket } from 'node:net'

export interface HttpResult {
  status: number
  body: string
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1'])

/** Throws unless `host` is a loopback address: test traffic never leaves the machine. */
export const assertLoopback = (host: string): void => {
  if (!LOOPBACK.has(host)) {
    throw new Error(`refusing to send test traffic to ${host}: only 127.0.0.1, ::1 or localhost`)
  }
}

export interface GetOptions {
  host?: string
  timeoutMs?: number
  /** the Host header to send (default: host:port) */
  hostHeader?: string
  /** a keep-alive agent whose connections are reused (default: a new connection, `agent: false`) */
  agent?: Agent
  /** called with the socket the request went out on */
  onSocket?: (socket: Socket) => void
}

/** GET http://host:port/path; rejects on network errors. */
export const httpGet = (
  port: number,
  path = '/',
  { host = '127.0.0.1', timeoutMs = 10_000, hostHeader, agent, onSocket }: GetOptions = {},
): Promise<HttpResult> => {
  assertLoopback(host)
  return new Promise((resolve, reject) => {
    const headers = hostHeader !== undefined ? { host: hostHeader } : undefined
    const req = request({ host, port, path, method: 'GET', agent: agent ?? false, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      )
      res.on('error', reject)
    })
    if (onSocket) req.once('socket', onSocket)
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no response within ${timeoutMs} ms`)))
    req.on('error', reject)
    req.end()
  })
}

/** True if GET answers 200 (any error counts as false). */
export const answers200 = async (port: number, path = '/', hostHeader?: string): Promise<boolean> => {
  try {
    return (await httpGet(port, path, { timeoutMs: 5_000, ...(hostHeader !== undefined ? { hostHeader } : {}) })).status === 200
  } catch {
    return false
  }
}
