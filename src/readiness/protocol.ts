/**
 * The readiness datagram (docs/protocol.md): parse, verify and encode. Pure functions, no I/O.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { DEFAULTS } from '../config.js'

export interface Readiness {
  kind: 'full'
  ready: boolean
  pid: number
  ppid: number | null
  group: string | null
  status: string | null
  /** HTTP status code at the start of STATUS, if it has one */
  statusCode: number | null
  release: string | null
  root: string | null
  bootMs: number | null
  /** PRELOAD=1: forked from a master that preloaded the app (Gunicorn preload_app), so it runs the master's code */
  preload: boolean
  /** APP: the app spec the worker was started with (Gunicorn's module:callable), when the hook knows it */
  app: string | null
  /** HOOK: the version of the hook that sent it; null when absent (a hook older than the field) */
  hookVersion?: string | null
  /** present and verified when a secret was configured; present, unchecked, otherwise */
  mac: string | null
}

/** A hand-made hook's datagram: just a status line such as `200 OK`. Carries no PID. */
export interface BareStatus {
  kind: 'bare'
  ready: boolean
  status: string
  statusCode: number
}

export type ParseResult =
  | { ok: true; value: Readiness | BareStatus }
  | { ok: false; reason: RejectReason; detail: string }

export type RejectReason = 'oversized' | 'malformed' | 'bad-mac' | 'unsigned' | 'bare'

export interface ParseOptions {
  /** HMAC key; when set, every datagram must carry a valid MAC */
  secret?: Buffer | null
  /** accept `200 OK`-style datagrams (they can only be attributed when one replacement is awaited) */
  acceptBareOk?: boolean
  maxBytes?: number
}

const KEY_RE = /^[A-Z][A-Z0-9_]*$/
const BARE_RE = /^(\d{3})(?:\s.*)?$/

export function statusCodeOf(status: string | null): number | null {
  const m = status ? /^\s*(\d{3})\b/.exec(status) : null
  return m ? Number(m[1]) : null
}

export function isSuccess(code: number | null): boolean {
  return code !== null && code >= 200 && code < 300
}

export function parseDatagram(buf: Buffer, opts: ParseOptions = {}): ParseResult {
  const max = opts.maxBytes ?? DEFAULTS.maxDatagramBytes
  if (buf.length > max) {
    return { ok: false, reason: 'oversized', detail: `${buf.length} bytes, more than ${max}` }
  }
  const text = buf.toString('utf8')
  if (text.includes('\uFFFD')) return { ok: false, reason: 'malformed', detail: 'not valid UTF-8' }
  const bare = parseBare(text, opts)
  if (bare) return bare
  const lines = splitLines(text)
  if (!lines.ok) return lines
  const mac = checkMac(buf, lines.macLine, opts)
  if (mac) return mac
  return fullReadiness(lines.fields, lines.macLine)
}

type Rejected = Extract<ParseResult, { ok: false }>

/** A bare status line (`200 OK\n`): the format of older hand-made hooks. null: not one. */
function parseBare(text: string, opts: ParseOptions): ParseResult | null {
  const trimmed = text.trim()
  const bare = BARE_RE.exec(trimmed)
  if (!bare || trimmed.includes('\n')) return null
  if (opts.secret) return { ok: false, reason: 'unsigned', detail: 'a bare status line cannot carry a MAC' }
  if (!opts.acceptBareOk) {
    return { ok: false, reason: 'bare', detail: `bare status ${JSON.stringify(trimmed)}; pass --accept-bare-ok to accept it` }
  }
  const code = Number(bare[1])
  return { ok: true, value: { kind: 'bare', ready: isSuccess(code), status: trimmed, statusCode: code } }
}

interface MacLine {
  value: string
  /** bytes before it: what the MAC covers */
  offset: number
}

/** The KEY=VALUE lines, each key once, and the MAC line (last, when present). */
function splitLines(text: string): { ok: true; fields: Map<string, string>; macLine: MacLine | null } | Rejected {
  const fields = new Map<string, string>()
  let macLine: MacLine | null = null
  let offset = 0
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string
    const lineOffset = offset
    offset += Buffer.byteLength(line, 'utf8') + 1
    if (line === '' && i === lines.length - 1) break // trailing newline
    if (macLine) return { ok: false, reason: 'malformed', detail: 'MAC must be the last line' }
    const eq = line.indexOf('=')
    if (eq <= 0) return { ok: false, reason: 'malformed', detail: `line ${i + 1} is not KEY=VALUE` }
    const key = line.slice(0, eq)
    const value = line.slice(eq + 1).replace(/\r$/, '')
    if (!KEY_RE.test(key)) return { ok: false, reason: 'malformed', detail: `bad key ${JSON.stringify(key)}` }
    if (key === 'MAC') {
      macLine = { value, offset: lineOffset }
      continue
    }
    if (fields.has(key)) return { ok: false, reason: 'malformed', detail: `${key} appears twice` }
    fields.set(key, value)
  }
  return { ok: true, fields, macLine }
}

/** With a secret, the MAC must be there and match every byte before it. null: fine. */
function checkMac(buf: Buffer, macLine: MacLine | null, opts: ParseOptions): Rejected | null {
  if (!opts.secret) return null
  if (!macLine) return { ok: false, reason: 'unsigned', detail: 'no MAC line, and a secret is configured' }
  const expected = computeMac(opts.secret, buf.subarray(0, macLine.offset))
  const given = Buffer.from(macLine.value.trim().toLowerCase(), 'utf8')
  const want = Buffer.from(expected, 'utf8')
  if (given.length !== want.length || !timingSafeEqual(given, want)) {
    return { ok: false, reason: 'bad-mac', detail: 'MAC does not match the secret' }
  }
  return null
}

/** The fields of a full datagram, checked: READY and PID are required, the numbers must be numbers. */
function fullReadiness(fields: Map<string, string>, macLine: MacLine | null): ParseResult {
  const ready = fields.get('READY')
  if (ready !== '0' && ready !== '1') {
    return { ok: false, reason: 'malformed', detail: `READY must be 0 or 1, got ${JSON.stringify(ready ?? null)}` }
  }
  const pid = intField(fields.get('PID'))
  if (pid === undefined || pid === null || pid <= 0) {
    return { ok: false, reason: 'malformed', detail: `PID must be a positive integer, got ${JSON.stringify(fields.get('PID') ?? null)}` }
  }
  const ppid = intField(fields.get('PPID'))
  if (ppid === undefined) return { ok: false, reason: 'malformed', detail: 'PPID is not an integer' }
  const bootMs = intField(fields.get('BOOT_MS'))
  if (bootMs === undefined) return { ok: false, reason: 'malformed', detail: 'BOOT_MS is not an integer' }
  const status = fields.get('STATUS') ?? null
  return {
    ok: true,
    value: {
      kind: 'full',
      ready: ready === '1',
      pid,
      ppid,
      group: emptyToNull(fields.get('GROUP')),
      status,
      statusCode: statusCodeOf(status),
      release: emptyToNull(fields.get('RELEASE')),
      root: emptyToNull(fields.get('ROOT')),
      bootMs,
      preload: fields.get('PRELOAD') === '1',
      app: emptyToNull(fields.get('APP')),
      hookVersion: emptyToNull(fields.get('HOOK')),
      mac: macLine?.value ?? null,
    },
  }
}

/** null when absent, undefined when present but not an integer */
function intField(v: string | undefined): number | null | undefined {
  if (v === undefined || v === '') return null
  return /^\d+$/.test(v) ? Number(v) : undefined
}

function emptyToNull(v: string | undefined): string | null {
  return v === undefined || v === '' ? null : v
}

export function computeMac(secret: Buffer, body: Buffer): string {
  return createHmac('sha256', secret).update(body).digest('hex')
}

/** A readiness that counts as success: READY=1 and, if a status line was sent, a 2xx one. */
export function isReady(r: Readiness | BareStatus): boolean {
  if (!r.ready) return false
  return r.statusCode === null ? r.kind === 'full' : isSuccess(r.statusCode)
}

/** Encode a datagram the way the Python hook does (used by tests, the demo and the benchmark). */
export function encodeDatagram(
  fields: { ready: boolean; pid: number; ppid?: number; group?: string; status?: string; release?: string; root?: string; preload?: boolean; bootMs?: number; hook?: string },
  secret?: Buffer | null,
): Buffer {
  const clean = (s: string) => s.replace(/[\x00-\x1f\x7f]/g, ' ')
  const lines = [`READY=${fields.ready ? 1 : 0}`, `PID=${fields.pid}`]
  if (fields.ppid !== undefined) lines.push(`PPID=${fields.ppid}`)
  if (fields.group !== undefined) lines.push(`GROUP=${clean(fields.group)}`)
  if (fields.status !== undefined) lines.push(`STATUS=${clean(fields.status)}`)
  if (fields.release !== undefined) lines.push(`RELEASE=${clean(fields.release)}`)
  if (fields.root !== undefined) lines.push(`ROOT=${clean(fields.root)}`)
  if (fields.preload) lines.push('PRELOAD=1')
  if (fields.bootMs !== undefined) lines.push(`BOOT_MS=${fields.bootMs}`)
  if (fields.hook !== undefined) lines.push(`HOOK=${clean(fields.hook)}`)
  let body = Buffer.from(lines.join('\n') + '\n', 'utf8')
  if (secret) body = Buffer.concat([body, Buffer.from(`MAC=${computeMac(secret, body)}\n`, 'utf8')])
  return body
}

/** The secret file's bytes with trailing white space removed. Empty is an error (caller reports it). */
export function secretFromFileContent(content: Buffer): Buffer {
  let end = content.length
  while (end > 0 && [0x20, 0x09, 0x0a, 0x0d].includes(content[end - 1] as number)) end--
  return content.subarray(0, end)
}
