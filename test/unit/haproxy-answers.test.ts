// HAProxy's runtime API answers (the words of haproxy 2.6.12), read into problems and typed errors.
import t from 'tap'
import { EXIT, TargetError } from '../../src/errors.js'
import { answerText, firstLine, problemOf, setProblem } from '../../src/haproxy/answers.js'
import { noBackend, noServer, notAdmin } from '../../src/haproxy/failures.js'

const ref = { backend: 'app', server: 'zz' }

t.test('a set that worked answers only the empty line', async (t) => {
  t.equal(setProblem('\n'), null)
  t.equal(answerText('admin\n\n'), 'admin')
})

t.test("HAProxy's error answers", async (t) => {
  t.equal(problemOf('Permission denied\n\n'), 'permission')
  t.equal(problemOf('No such backend.\n\n'), 'no-backend')
  t.equal(problemOf("Can't find backend.\n\n"), 'no-backend')
  t.equal(problemOf('No such proxy.\n\n'), 'no-backend')
  t.equal(problemOf('No such server.\n\n'), 'no-server')
  t.equal(problemOf('Unknown command, but maybe one of the following ones is a better match:\n  add acl ...\n\n'), 'unknown-command')
  t.equal(problemOf("Require 'backend/server'.\n\n"), null)
  t.equal(setProblem("'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n"), 'other')
  t.equal(firstLine('Unknown command, but maybe\n  add acl\n'), 'Unknown command, but maybe')
})

t.test('the errors say what to do, and are target errors (exit 3)', async (t) => {
  const admin = notAdmin('/run/haproxy/user.sock', 'user')
  t.type(admin, TargetError)
  t.equal(admin.exitCode, EXIT.TARGET)
  t.equal(admin.code, 'haproxy-not-admin')
  t.match(admin.message, 'is a level "user" socket')
  t.match(admin.message, 'add "level admin" to the "stats socket /run/haproxy/user.sock" line')

  const backend = noBackend({ backend: 'nope', server: 'h1' }, '/s', 'No such backend.', ['app', 'api'])
  t.equal(backend.code, 'haproxy-no-backend')
  t.match(backend.message, '--haproxy-server nope/h1: HAProxy (/s) has no backend "nope" (it said "No such backend.")')
  t.match(backend.message, '(backends: app, api)')

  const said = noServer(ref, '/s', 'No such server.', ['h1', 'h2'])
  t.equal(said.code, 'haproxy-no-server')
  t.match(said.message, 'backend "app" has no server "zz" (HAProxy /s said "No such server.")')
  t.match(said.message, '(servers of app: h1, h2)')
  t.match(noServer(ref, '/s', null, []).message, '(HAProxy /s lists none by that name): use a server name of that backend')
  t.notMatch(noServer(ref, '/s', null, []).message, 'servers of')
})
