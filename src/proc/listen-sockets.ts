/**
 * The addresses a process listens on, read from /proc: its socket file descriptors
 * (/proc/PID/fd -> `socket:[INODE]`), matched against the listening sockets of its network
 * namespace (/proc/PID/net/tcp, tcp6, unix). Like procfs.ts, a seam over /proc: what cannot be
 * read is an answer (`why`), not an exception.
 */
import { readdirSync, readlinkSync } from 'node:fs'
import { endianness } from 'node:os'
import { errnoCode } from '../errors.js'
import { parseInetTable, parseUnixTable, socketInode, type ListenSocket } from './net-tables.js'
import { readProcText } from './proc-read.js'

export type ListenReport = { addresses: string[] } | { addresses: null; why: string }

const unreadable = (what: string, err: unknown): ListenReport => ({
  addresses: null,
  why: `cannot read ${what} (${errnoCode(err) ?? String(err)}): run status as the server's user or as root`,
})

/** The inodes of the sockets `pid` holds open, or why they cannot be read. */
function socketInodes(pid: number): Set<number> | ListenReport {
  let fds: string[]
  try {
    fds = readdirSync(`/proc/${pid}/fd`)
  } catch (err) {
    return errnoCode(err) === 'ENOENT' ? { addresses: null, why: `process ${pid} is gone` } : unreadable(`/proc/${pid}/fd`, err)
  }
  const inodes = new Set<number>()
  for (const fd of fds) {
    try {
      const inode = socketInode(readlinkSync(`/proc/${pid}/fd/${fd}`))
      if (inode !== null) inodes.add(inode)
    } catch (err) {
      // a descriptor closed since the listing is no loss; one we may not read is
      if (errnoCode(err) === 'EACCES' || errnoCode(err) === 'EPERM') return unreadable(`/proc/${pid}/fd/${fd}`, err)
    }
  }
  return inodes
}

/** A table of `pid`'s network namespace (falling back to the host's), or '' when there is none (no IPv6). */
function netTable(pid: number, name: string): string {
  return readProcText(`/proc/${pid}/net/${name}`) ?? readProcText(`/proc/net/${name}`) ?? ''
}

/** Every listening socket of `pid`'s network namespace. */
export function listeningSockets(pid: number): ListenSocket[] {
  const le = endianness() === 'LE'
  return [...parseInetTable(netTable(pid, 'tcp'), 'tcp', le), ...parseInetTable(netTable(pid, 'tcp6'), 'tcp6', le), ...parseUnixTable(netTable(pid, 'unix'))]
}

/** The addresses `pid` itself listens on (sockets it holds open that are in LISTEN), in table order. */
export function listenAddresses(pid: number): ListenReport {
  const inodes = socketInodes(pid)
  if (!(inodes instanceof Set)) return inodes
  if (inodes.size === 0) return { addresses: [] }
  const seen = new Set<string>()
  for (const s of listeningSockets(pid)) if (inodes.has(s.inode)) seen.add(s.address)
  return { addresses: [...seen] }
}
