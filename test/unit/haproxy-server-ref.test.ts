// --haproxy-server BACKEND/SERVER: what is accepted, and what the error for a bad value says.
import t from 'tap'
import { EXIT, UsageError } from '../../src/errors.js'
import { parseHaproxyServer, serverName } from '../../src/haproxy/server-ref.js'

t.test('BACKEND/SERVER with the characters HAProxy allows in names', async (t) => {
  t.same(parseHaproxyServer('app/web1'), { backend: 'app', server: 'web1' })
  t.same(parseHaproxyServer('be_app.v2/host-3:8000'), { backend: 'be_app.v2', server: 'host-3:8000' })
  t.equal(serverName(parseHaproxyServer('app/web1')), 'app/web1')
})

t.test('anything else is a usage error naming the flag, the value and the fix', async (t) => {
  for (const bad of ['app', 'app/', '/web1', 'a/b/c', 'app/web 1', 'app/web1;set server x/y state maint', 'app/w\n', '']) {
    const err = t.throws(() => parseHaproxyServer(bad)) as UsageError
    t.type(err, UsageError, JSON.stringify(bad))
    t.equal(err.exitCode, EXIT.USAGE)
    t.equal(err.code, 'haproxy-server')
    t.match(err.message, `--haproxy-server ${JSON.stringify(bad)} is not BACKEND/SERVER`)
    t.match(err.message, /such as --haproxy-server app\/web1/)
  }
})
