// `show stat BACKEND 4 -1` as HAProxy 2.6.12 printed it (test/fixtures/haproxy): scur and status.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { parseStat, splitCsvLine } from '../../src/haproxy/stat.js'

const fixture = (name: string): string =>
  readFileSync(new URL(`../fixtures/haproxy/${name}`, import.meta.url), 'utf8')

t.test('a drained server with requests still in flight, then idle again', async (t) => {
  t.same(parseStat(fixture('show-stat-draining.txt')), [
    { backend: 'app', server: 'h1', scur: 2, status: 'DRAIN' },
    { backend: 'app', server: 'h2', scur: 1, status: 'UP' },
  ])
  t.same(parseStat(fixture('show-stat-ready.txt')), [
    { backend: 'app', server: 'h1', scur: 0, status: 'no check' },
    { backend: 'app', server: 'h2', scur: 0, status: 'UP' },
  ])
})

t.test('FRONTEND and BACKEND rows are not servers; an empty scur is 0', async (t) => {
  const raw = '# pxname,svname,scur,status,\napp,FRONTEND,3,OPEN,\napp,BACKEND,3,UP,\napp,w1,,MAINT,\n\n'
  t.same(parseStat(raw), [{ backend: 'app', server: 'w1', scur: 0, status: 'MAINT' }])
})

t.test('quoted values may hold commas and doubled quotes', async (t) => {
  t.same(splitCsvLine('a,"b,c",d'), ['a', 'b,c', 'd'])
  t.same(splitCsvLine('"say ""hi""",,x'), ['say "hi"', '', 'x'])
  const raw = '# pxname,svname,check_desc,scur,status\napp,w1,"Layer7 wrong status, 503",4,DOWN\n'
  t.same(parseStat(raw), [{ backend: 'app', server: 'w1', scur: 4, status: 'DOWN' }])
})

t.test('an error answer is not a stat dump', async (t) => {
  t.equal(parseStat('No such proxy.\n\n'), null)
  t.equal(parseStat('# pxname,svname\napp,w1\n'), null)
})
