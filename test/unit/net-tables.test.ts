import t from 'tap'
import { compressIPv6, ipv4OfHex, ipv6OfHex, parseInetTable, parseUnixTable, socketInode } from '../../src/proc/net-tables.js'
import { groupMemory } from '../../src/proc/memory.js'

// lines as a 6.x kernel writes them (trailing columns cut)
const TCP = [
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
  '   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1652 1 000000002d2181eb 100 0 0 10 0',
  '   1: 0100007F:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 8387943 1 0000000021c6fe96 100 0 0 10 0',
  '   2: 0100007F:8A85 0100007F:A866 06 00000000:00000000 03:00000F9F 00000000     0        0 0 3 00000000e6138da7',
  '   3: 0100007F:1F40 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000  1000        0 9001 1 0000000000000000 20 4 30 10 -1',
].join('\n')

const TCP6 = [
  '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
  '   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0',
  '   1: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4243 1 0000000000000000 100 0 0 10 0',
  '   2: 0000000000000000FFFF00000100007F:0050 0000000000000000FFFF00000100007F:C000 01 00000000:00000000 00:00000000 00000000     0        0 4244 1 0000000000000000 100 0 0 10 0',
].join('\n')

const UNIX = [
  'Num       RefCount Protocol Flags    Type St Inode Path',
  '00000000f97e290a: 00000002 00000000 00010000 0001 01 7001 /run/gunicorn/app.sock',
  '00000000ff2c267c: 00000003 00000000 00000000 0001 03 7002 /run/gunicorn/app.sock',
  '0000000028249f31: 00000002 00000000 00010000 0001 01 7003 @abstract-name',
  '0000000078883a05: 00000002 00000000 00010000 0001 01 7004',
  '0000000078883a06: 00000002 00000000 00010000 0001 01 7005 /tmp/a path with spaces',
].join('\n')

t.test('tcp: LISTEN rows only, with the address the way people write it', async (t) => {
  t.same(parseInetTable(TCP, 'tcp'), [
    { inode: 1652, address: '0.0.0.0:2024' },
    { inode: 8387943, address: '127.0.0.1:8000' },
  ])
  t.equal(ipv4OfHex('0100007F', true), '127.0.0.1')
  t.equal(ipv4OfHex('7F000001', false), '127.0.0.1', 'a big-endian host stores the bytes in order')
})

t.test('tcp6: [::], [::1] and never an established row', async (t) => {
  t.same(parseInetTable(TCP6, 'tcp6'), [
    { inode: 4242, address: '[::]:8080' },
    { inode: 4243, address: '[::1]:80' },
  ])
  t.equal(ipv6OfHex('0000000000000000FFFF00000100007F'), '::ffff:127.0.0.1')
  t.equal(ipv6OfHex('B80D0120000000000000000001000000'), '2001:db8::1')
  t.equal(compressIPv6([0x2001, 0xdb8, 0, 1, 0, 0, 0, 1]), '2001:db8:0:1::1', 'the longest zero run')
  t.equal(compressIPv6([1, 0, 2, 0, 3, 0, 4, 0]), '1:0:2:0:3:0:4:0', 'a single zero group stays')
})

t.test('unix: listening (__SO_ACCEPTCON) sockets with a name', async (t) => {
  t.same(parseUnixTable(UNIX), [
    { inode: 7001, address: 'unix:/run/gunicorn/app.sock' },
    { inode: 7003, address: 'unix:@abstract-name' },
    { inode: 7005, address: 'unix:/tmp/a path with spaces' },
  ])
})

t.test('fd links: only sockets have an inode', async (t) => {
  t.equal(socketInode('socket:[8387943]'), 8387943)
  t.equal(socketInode('pipe:[12]'), null)
  t.equal(socketInode('/var/log/app.log'), null)
})

t.test('group memory: PSS when every process can be read, else RSS and why', async (t) => {
  const MiB = 1024 * 1024
  t.same(groupMemory([
    { pid: 1, rssBytes: 40 * MiB, pssBytes: 20 * MiB },
    { pid: 2, rssBytes: 30 * MiB, pssBytes: 10 * MiB },
  ]), { bytes: 30 * MiB, measure: 'PSS', processes: 2, note: null })
  const rss = groupMemory([
    { pid: 1, rssBytes: 40 * MiB, pssBytes: null },
    { pid: 2, rssBytes: 30 * MiB, pssBytes: 10 * MiB },
    { pid: 3, rssBytes: null, pssBytes: null },
  ])
  t.match(rss, { bytes: 70 * MiB, measure: 'RSS', processes: 2 })
  t.match(rss?.note, /^summed RSS, since the PSS of 1, 3 cannot be read .*overstates; 1 process\(es\) left out/)
  const none = groupMemory([1, 2, 3, 4, 5].map((pid) => ({ pid, rssBytes: MiB, pssBytes: null })))
  t.match(none?.note, /^summed RSS, since no process's PSS can be read \(\/proc\/PID\/smaps_rollup needs the server's user or root\)/)
  t.equal(groupMemory([]), null)
})
