// `show servers state` as HAProxy 2.6.12 printed it (test/fixtures/haproxy), and the admin mask.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { adminState, ADMIN_FLAGS, opState, parseServersState } from '../../src/haproxy/servers-state.js'

const fixture = (name: string): string =>
  readFileSync(new URL(`../fixtures/haproxy/${name}`, import.meta.url), 'utf8')

t.test('one row per server: admin state from the mask, operational state from the code', async (t) => {
  const rows = parseServersState(fixture('show-servers-state-draining.txt'))
  t.same(rows, [
    { backend: 'app', server: 'h1', admin: 'drain', adminFlags: 8, op: 'up', addr: '127.0.0.1', port: 18001 },
    { backend: 'app', server: 'h2', admin: 'ready', adminFlags: 0, op: 'up', addr: '127.0.0.1', port: 18002 },
  ])
})

t.test('columns are found by name', async (t) => {
  const raw = '1\n# srv_name be_name srv_admin_state srv_op_state\nweb1 app 1 0\n# a comment\n\n'
  t.same(parseServersState(raw), [
    { backend: 'app', server: 'web1', admin: 'maint', adminFlags: 1, op: 'down', addr: '', port: null },
  ])
})

t.test('an error answer or an unknown format is not a dump', async (t) => {
  t.equal(parseServersState("Can't find backend.\n\n"), null)
  t.equal(parseServersState('2\n# be_name srv_name\n'), null)
  t.equal(parseServersState('1\n# be_id be_name\n'), null)
  t.same(parseServersState('1\n# be_name srv_name srv_op_state srv_admin_state\n\n'), [])
})

t.test('maintenance wins over drain; inherited flags count', async (t) => {
  t.equal(adminState(0), 'ready')
  t.equal(adminState(ADMIN_FLAGS.FDRAIN), 'drain')
  t.equal(adminState(ADMIN_FLAGS.IDRAIN), 'drain')
  t.equal(adminState(ADMIN_FLAGS.FMAINT | ADMIN_FLAGS.FDRAIN), 'maint')
  t.equal(adminState(ADMIN_FLAGS.CMAINT), 'maint')
  t.equal(adminState(ADMIN_FLAGS.RMAINT), 'maint')
  t.equal(adminState(0x40), 'ready', 'HMAINT only says the FQDN was set from the socket')
  t.same([0, 1, 2, 3, 9].map(opState), ['down', 'starting', 'up', 'stopping', 'unknown'])
})
