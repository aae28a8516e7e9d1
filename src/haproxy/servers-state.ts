/**
 * `show servers state [BACKEND]`, parsed without side effects. Format version 1: a line with the
 * version, a header line starting with '#', then one space-separated line per server. Columns are
 * found by their header name, so added columns do not shift what is read.
 */
import type { HaproxyServer } from './server-ref.js'

/** srv_admin_state is a mask; these bits are HAProxy's SRV_ADMF_* flags. */
export const ADMIN_FLAGS = {
  FMAINT: 0x01,
  IMAINT: 0x02,
  CMAINT: 0x04,
  FDRAIN: 0x08,
  IDRAIN: 0x10,
  RMAINT: 0x20,
} as const

const MAINT_MASK = ADMIN_FLAGS.FMAINT | ADMIN_FLAGS.IMAINT | ADMIN_FLAGS.CMAINT | ADMIN_FLAGS.RMAINT
const DRAIN_MASK = ADMIN_FLAGS.FDRAIN | ADMIN_FLAGS.IDRAIN

export type AdminState = 'ready' | 'drain' | 'maint'
/** srv_op_state 0..3 (SRV_ST_STOPPED, STARTING, RUNNING, STOPPING) */
export type OpState = 'down' | 'starting' | 'up' | 'stopping' | 'unknown'

const OP_STATES: readonly OpState[] = ['down', 'starting', 'up', 'stopping']

export interface ServerState extends HaproxyServer {
  admin: AdminState
  /** the raw srv_admin_state mask */
  adminFlags: number
  op: OpState
  addr: string
  port: number | null
}

/** Maintenance wins over drain: a server in both gets no traffic at all. */
export function adminState(flags: number): AdminState {
  if (flags & MAINT_MASK) return 'maint'
  if (flags & DRAIN_MASK) return 'drain'
  return 'ready'
}

export const opState = (code: number): OpState => OP_STATES[code] ?? 'unknown'

/** The servers listed in an answer; null when the answer is not a version-1 dump (an error message). */
export function parseServersState(raw: string): ServerState[] | null {
  const lines = raw.split('\n').map((l) => l.trim())
  if (lines[0] !== '1') return null
  const header = lines[1]
  if (!header?.startsWith('#')) return null
  const columns = header.slice(1).trim().split(/\s+/)
  const at = (name: string): number => columns.indexOf(name)
  const idx = {
    backend: at('be_name'),
    server: at('srv_name'),
    addr: at('srv_addr'),
    op: at('srv_op_state'),
    admin: at('srv_admin_state'),
    port: at('srv_port'),
  }
  if (idx.backend < 0 || idx.server < 0 || idx.op < 0 || idx.admin < 0) return null
  return lines
    .slice(2)
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.split(/\s+/))
    .map((f): ServerState => {
      const adminFlags = Number(f[idx.admin])
      const port = idx.port < 0 ? NaN : Number(f[idx.port])
      return {
        backend: f[idx.backend] ?? '',
        server: f[idx.server] ?? '',
        admin: adminState(adminFlags),
        adminFlags,
        op: opState(Number(f[idx.op])),
        addr: idx.addr < 0 ? '' : (f[idx.addr] ?? ''),
        port: Number.isFinite(port) ? port : null,
      }
    })
}
