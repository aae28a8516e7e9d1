// A UDP listener on 127.0.0.1 that keeps every datagram, for tests that watch readiness
// notifications without going through the rolling-restart CLI.
import { createSocket } from 'node:dgram'
import { setTimeout as sleep } from 'node:timers/promises'

export interface Datagram {
  text: string
  /** 'host:port' of the sender */
  from: string
  /** KEY=VALUE lines of the text (the last value wins; the real parser lives in src/readiness). */
  fields: Record<string, string>
  /** Date.now() on arrival */
  at: number
}

export interface Collector {
  port: number
  readonly messages: Datagram[]
  /** Resolves with the first datagram (already received or future) matching `pred`. */
  waitFor(pred: (d: Datagram) => boolean, timeoutMs?: number, what?: string): Promise<Datagram>
  close(): Promise<void>
}

/** Splits `KEY=VALUE` lines; lines without '=' are ignored. */
export const parseFields = (text: string): Record<string, string> => {
  const fields: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=')
    if (eq > 0) fields[line.slice(0, eq)] = line.slice(eq + 1)
  }
  return fields
}

/** Binds 127.0.0.1:port (0 = any free port; see `.port`). */
export const collectDatagrams = async (port = 0): Promise<Collector> => {
  const socket = createSocket('udp4')
  const messages: Datagram[] = []
  socket.on('message', (msg, rinfo) => {
    const text = msg.toString('utf8')
    messages.push({ text, from: `${rinfo.address}:${rinfo.port}`, fields: parseFields(text), at: Date.now() })
  })
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject)
    socket.bind(port, '127.0.0.1', () => {
      socket.off('error', reject)
      resolve()
    })
  })
  let closed = false
  return {
    port: socket.address().port,
    messages,
    waitFor: async (pred, timeoutMs = 30_000, what = 'a matching datagram') => {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const found = messages.find(pred)
        if (found) return found
        if (Date.now() >= deadline) {
          const seen = messages.map((m) => JSON.stringify(m.text)).join(', ') || 'none'
          throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} on udp 127.0.0.1:${port}; received: ${seen}`)
        }
        await sleep(50)
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (closed) return resolve()
        closed = true
        socket.close(() => resolve())
      }),
  }
}
