// The UDP listener on a real loopback socket: parse on arrival, claim, reject, refuse a taken port.
import t from 'tap'
import { createSocket } from 'node:dgram'
import { EXIT, RefusedError } from '../../src/errors.js'
import { ReadinessListener, type Rejection } from '../../src/readiness/listener.js'
import { encodeDatagram } from '../../src/readiness/protocol.js'

async function freePort(): Promise<number> {
  const s = createSocket('udp4')
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r))
  const port = s.address().port
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

function send(port: number, data: Buffer): Promise<void> {
  const s = createSocket('udp4')
  return new Promise((resolve, reject) => s.send(data, port, '127.0.0.1', (err) => (s.close(), err ? reject(err) : resolve())))
}

t.test('datagrams are parsed on arrival and wait in the inbox until claimed', async (t) => {
  const port = await freePort()
  const rejected: Rejection[] = []
  const l = await ReadinessListener.open({ host: '127.0.0.1', port, family: 'udp4' }, {}, (r) => rejected.push(r))
  t.teardown(() => l.close())
  await send(port, encodeDatagram({ ready: true, pid: 4242, status: '200 OK' }))
  await send(port, Buffer.from('not a datagram'))
  await send(port, Buffer.alloc(3000, 0x41))
  const deadline = Date.now() + 5000
  while ((l.pending().length < 1 || rejected.length < 2) && Date.now() < deadline) await l.wait(50)
  t.equal(l.pending().length, 1)
  t.same(rejected.map((r) => r.reason).sort(), ['malformed', 'oversized'])
  t.equal(l.claim((a) => a.value.kind === 'full' && a.value.pid === 9), null, 'a claim that matches nothing takes nothing')
  const got = l.claim((a) => a.value.kind === 'full' && a.value.pid === 4242)
  t.equal(got?.value.kind === 'full' && got.value.status, '200 OK')
  t.equal(l.pending().length, 0, 'claimed datagrams leave the inbox')
})

t.test('a taken readiness port is a refusal (exit 5) naming --notify', async (t) => {
  const port = await freePort()
  const holder = createSocket('udp4')
  await new Promise<void>((r) => holder.bind(port, '127.0.0.1', r))
  t.teardown(() => holder.close())
  try {
    await ReadinessListener.open({ host: '127.0.0.1', port, family: 'udp4' }, {}, () => undefined)
    t.fail('opened a port that is taken')
  } catch (err) {
    t.type(err, RefusedError)
    t.equal((err as RefusedError).exitCode, EXIT.REFUSED)
    t.match((err as Error).message, new RegExp(`127\\.0\\.0\\.1:${port} is already in use.*--notify HOST:PORT`))
  }
})
