/**
 * The value of --haproxy-server: BACKEND/SERVER, as haproxy.cfg names them. Validated before anything
 * is sent, so that a value can never smuggle a second command (';') or a line break into the socket.
 */
import { UsageError } from '../errors.js'

export interface HaproxyServer {
  backend: string
  server: string
}

/** The characters HAProxy accepts in proxy and server names (letters, digits, '.', ':', '_', '-'). */
const NAME = /^[A-Za-z0-9._:-]+$/

export const FLAG = '--haproxy-server'

/** `app/web1` -> { backend: 'app', server: 'web1' }; a UsageError naming the flag, the value and the fix. */
export function parseHaproxyServer(value: string): HaproxyServer {
  const parts = value.split('/')
  const [backend, server] = parts
  if (parts.length === 2 && backend && server && NAME.test(backend) && NAME.test(server)) {
    return { backend, server }
  }
  throw new UsageError(
    `${FLAG} ${JSON.stringify(value)} is not BACKEND/SERVER: give the backend and the server as haproxy.cfg ` +
      `names them, such as ${FLAG} app/web1 (names use only letters, digits, '.', ':', '_' and '-')`,
    'haproxy-server',
  )
}

/** `app/web1`, as HAProxy's own messages and commands write it. */
export const serverName = ({ backend, server }: HaproxyServer): string => `${backend}/${server}`
