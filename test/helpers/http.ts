// One HTTP GET over a fresh connection, to loopback only.
import { request } from 'node:http'

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
}

/** GET http://host:port/path with `agent: false` (new connection); rejects on network errors. */
export const httpGet = (
  port: number,
  path = '/',
  { host = '127.0.0.1', timeoutMs = 10_000 }: GetOptions = {},
): Promise<HttpResult> => {
  assertLoopback(host)
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, method: 'GET', agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      )
      res.on('error', reject)
    })
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no response within ${timeoutMs} ms`)))
    req.on('error', reject)
    req.end()
  })
}

/** True if GET answers 200 (any error counts as false). */
export const answers200 = async (port: number, path = '/'): Promise<boolean> => {
  try {
    return (await httpGet(port, path, { timeoutMs: 5_000 })).status === 200
  } catch {
    return false
  }
}
