/**
 * The UDP side of readiness: bind the notify address, parse every datagram as it arrives and keep
 * the good ones in an inbox until the roller claims them. Parsing rejects are reported at once.
 */
import { isIP } from 'node:net'
import DgramAsPromised, { type SocketAsPromised } from 'dgram-as-promised'
import { RefusedError, TargetError } from '../errors.js'
import type { NotifyAddress } from '../config.js'
import { parseDatagram, type BareStatus, type ParseOptions, type Readiness, type RejectReason } from './protocol.js'

export interface Arrival {
  /** ms since the epoch when it arrived */
  at: number
  from: string
  value: Readiness | BareStatus
}

export interface Rejection {
  at: number
  from: string
  reason: RejectReason
  detail: string
}

/** How many parse rejections a listener remembers, for the message of a step that times out. */
const REJECTIONS_KEPT = 50

export class ReadinessListener {
  private readonly inbox: Arrival[] = []
  private readonly rejections: Rejection[] = []
  private wakers: Array<() => void> = []

  private constructor(
    private readonly sock: SocketAsPromised,
    readonly address: NotifyAddress,
  ) {}

  static async open(
    address: NotifyAddress,
    parseOpts: ParseOptions,
    onReject: (r: Rejection) => void,
  ): Promise<ReadinessListener> {
    let self: ReadinessListener | undefined
    // An IP literal needs no lookup: without one of its own, dgram loads the resolver (c-ares,
    // which reads resolv.conf) on the way to the first signal.
    const literal = isIP(address.host)
    const lookup = literal ? (host: string, _o: unknown, cb: (e: null, a: string, f: number) => void) => cb(null, host, literal) : undefined
    const sock = DgramAsPromised.createSocket({ type: address.family, ...(lookup ? { lookup } : {}) }, (msg, rinfo) => {
      const from = `${rinfo.address}:${rinfo.port}`
      const at = Date.now()
      const parsed = parseDatagram(msg, parseOpts)
      if (parsed.ok) self?.push({ at, from, value: parsed.value })
      else {
        const r: Rejection = { at, from, reason: parsed.reason, detail: parsed.detail }
        self?.remember(r)
        onReject(r)
      }
    })
    try {
      await sock.bind(address.port, address.host)
    } catch (err) {
      sock.destroy()
      const code = (err as NodeJS.ErrnoException).code
      const where = `${address.host}:${address.port}`
      if (code === 'EADDRINUSE') {
        throw new RefusedError(
          `the readiness address ${where} is already in use, probably by another rolling-restart run: ` +
            `wait for it, or give this group its own port with --notify HOST:PORT and the same ROLLING_RESTART_NOTIFY in the server's environment`,
          'notify-port-in-use',
        )
      }
      if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAFNOSUPPORT') {
        throw new TargetError(`cannot listen on --notify ${where}: ${code}; use a local address such as 127.0.0.1:4012`, 'notify-address')
      }
      throw err
    }
    self = new ReadinessListener(sock, address)
    return self
  }

  private push(a: Arrival): void {
    this.inbox.push(a)
    const wakers = this.wakers
    this.wakers = []
    for (const w of wakers) w()
  }

  private remember(r: Rejection): void {
    this.rejections.push(r)
    if (this.rejections.length > REJECTIONS_KEPT) this.rejections.shift()
  }

  /** The datagrams rejected unparsed (bad MAC, malformed...) since `at`, oldest first. */
  rejectedSince(at: number): Rejection[] {
    return this.rejections.filter((r) => r.at >= at)
  }

  /** Remove and return the first datagram that `pick` accepts; leave the others queued. */
  claim(pick: (a: Arrival) => boolean): Arrival | null {
    const i = this.inbox.findIndex(pick)
    if (i < 0) return null
    return this.inbox.splice(i, 1)[0] ?? null
  }

  /** Remove and return, in arrival order, the datagrams `pick` rejects for good (e.g. from processes that are not ours). */
  drop(pick: (a: Arrival) => boolean): Arrival[] {
    const dropped: Arrival[] = []
    const kept: Arrival[] = []
    for (const a of this.inbox) (pick(a) ? dropped : kept).push(a)
    this.inbox.splice(0, this.inbox.length, ...kept)
    return dropped
  }

  pending(): readonly Arrival[] {
    return this.inbox
  }

  /** Resolve when a datagram arrives or after `ms`, whichever is first. */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      function done() {
        clearTimeout(timer)
        resolve()
      }
      this.wakers.push(done)
    })
  }

  async close(): Promise<void> {
    try {
      await this.sock.close()
    } catch {
      // already closed
    }
  }
}
