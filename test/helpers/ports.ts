// Free loopback ports. The port is released before it is returned, so another process could take
// it in between; good enough for tests that start one server at a time.
import { createSocket } from 'node:dgram'
import { createServer } from 'node:net'

/** A TCP port on 127.0.0.1 that nothing listened on a moment ago. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })

/** A UDP port on 127.0.0.1 that nothing was bound to a moment ago. */
export const freeUdpPort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const socket = createSocket('udp4')
    socket.once('error', reject)
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address()
      socket.close(() => resolve(port))
    })
  })
