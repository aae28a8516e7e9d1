/**
 * The kernel's socket tables (/proc/PID/net/tcp, tcp6, unix), parsed: the listening sockets and
 * their inodes, so a process's socket file descriptors (`socket:[INODE]`) can be named.
 *
 * tcp/tcp6 (net/ipv4/tcp_ipv4.c, get_tcp4_sock): `sl local_address rem_address st ... uid timeout
 * inode`. The address is the 32-bit words of the IP as the host stores them, in hex (so on a
 * little-endian host 127.0.0.1 reads 0100007F), then `:` and the port in plain hex. State 0A is
 * TCP_LISTEN. unix (net/unix/af_unix.c, unix_seq_show): `Num RefCount Protocol Flags Type St Inode
 * Path`; Flags has __SO_ACCEPTCON (0x10000) on a listening socket; an abstract name starts with `@`.
 */

export interface ListenSocket {
  inode: number
  /** `127.0.0.1:8000`, `[::]:8000`, `unix:/run/app.sock` */
  address: string
}

const TCP_LISTEN = '0A'
const SO_ACCEPTCON = 0x10000

/** The inode of a `socket:[12345]` fd link, or null for anything else (a file, a pipe). */
export function socketInode(linkTarget: string): number | null {
  const m = /^socket:\[(\d+)\]$/.exec(linkTarget)
  return m ? Number(m[1]) : null
}

/** One 32-bit word of /proc/net/tcp's address as its four bytes, in memory order. */
function wordBytes(hex8: string, littleEndian: boolean): number[] {
  const bytes = [0, 2, 4, 6].map((i) => parseInt(hex8.slice(i, i + 2), 16))
  return littleEndian ? bytes.reverse() : bytes
}

export function ipv4OfHex(hex: string, littleEndian = true): string {
  return wordBytes(hex, littleEndian).join('.')
}

/** The shortest form of eight 16-bit groups (RFC 5952): the longest run of two or more zero groups becomes `::`. */
export function compressIPv6(groups: number[]): string {
  let best = { at: -1, len: 0 }
  for (let i = 0; i < groups.length; ) {
    let j = i
    while (j < groups.length && groups[j] === 0) j++
    if (j - i > best.len) best = { at: i, len: j - i }
    i = j === i ? i + 1 : j
  }
  const hex = groups.map((g) => g.toString(16))
  if (best.len < 2) return hex.join(':')
  return `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.len).join(':')}`
}

export function ipv6OfHex(hex: string, littleEndian = true): string {
  const bytes: number[] = []
  for (let w = 0; w < 4; w++) bytes.push(...wordBytes(hex.slice(w * 8, w * 8 + 8), littleEndian))
  // ::ffff:a.b.c.d, an IPv4 client on a dual-stack socket
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return `::ffff:${bytes.slice(12).join('.')}`
  const groups: number[] = []
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] as number) << 8) | (bytes[i + 1] as number))
  return compressIPv6(groups)
}

/** The listening sockets of a tcp or tcp6 table. */
export function parseInetTable(text: string, family: 'tcp' | 'tcp6', littleEndian = true): ListenSocket[] {
  const out: ListenSocket[] = []
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/)
    if (f.length < 10 || f[3] !== TCP_LISTEN) continue
    const [ipHex, portHex] = (f[1] as string).split(':') as [string, string | undefined]
    if (portHex === undefined) continue
    const port = parseInt(portHex, 16)
    const address = family === 'tcp' ? `${ipv4OfHex(ipHex, littleEndian)}:${port}` : `[${ipv6OfHex(ipHex, littleEndian)}]:${port}`
    out.push({ inode: Number(f[9]), address })
  }
  return out
}

/** The listening sockets of the unix table (unnamed ones have no address to show and are left out). */
export function parseUnixTable(text: string): ListenSocket[] {
  const out: ListenSocket[] = []
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/)
    if (f.length < 8) continue
    if ((parseInt(f[3] as string, 16) & SO_ACCEPTCON) === 0) continue
    out.push({ inode: Number(f[6]), address: `unix:${f.slice(7).join(' ')}` })
  }
  return out
}
