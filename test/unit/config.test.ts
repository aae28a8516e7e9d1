import t from 'tap'
import { formatBytes, formatMs, parseChoice, parseDuration, parseNotify, parsePositiveInt, parseSize } from '../../src/config.js'
import { EXIT, UsageError } from '../../src/errors.js'

t.test('durations', async (t) => {
  t.equal(parseDuration('--x', '90'), 90_000, 'bare number is seconds')
  t.equal(parseDuration('--x', '1.5s'), 1500)
  t.equal(parseDuration('--x', '500ms'), 500)
  t.equal(parseDuration('--x', '2m'), 120_000)
  t.equal(parseDuration('--x', '12h'), 43_200_000)
  t.equal(parseDuration('--x', '1d'), 86_400_000)
  t.equal(parseDuration('--x', '5S'), 5000, 'units are case-insensitive')
  for (const bad of ['', 'abc', '5 q', '-1s', '0', '1.2.3s']) {
    t.throws(() => parseDuration('--ready-timeout', bad), UsageError, `rejects ${JSON.stringify(bad)}`)
  }
  try {
    parseDuration('--ready-timeout', '5q')
  } catch (err) {
    t.match((err as Error).message, /--ready-timeout "5q".*90s/, 'the message names the flag, the value and a good value')
    t.equal((err as UsageError).exitCode, EXIT.USAGE)
  }
})

t.test('sizes are binary', async (t) => {
  t.equal(parseSize('--rss-above', '512M'), 512 * 1024 * 1024)
  t.equal(parseSize('--rss-above', '1.5G'), 1.5 * 1024 ** 3)
  t.equal(parseSize('--rss-above', '800k'), 800 * 1024)
  t.equal(parseSize('--rss-above', '1048576'), 1048576)
  t.equal(parseSize('--rss-above', '64MiB'), 64 * 1024 ** 2)
  t.throws(() => parseSize('--rss-above', '12X'), /--rss-above "12X" is not a size/)
  t.throws(() => parseSize('--rss-above', '0M'), /greater than zero/)
})

t.test('whole numbers with bounds', async (t) => {
  t.equal(parsePositiveInt('--batch', '2'), 2)
  t.throws(() => parsePositiveInt('--batch', '0'), /--batch 0 is out of range/)
  t.throws(() => parsePositiveInt('--batch', '1.5'), /not a whole number/)
  t.throws(() => parsePositiveInt('--batch', '65', { max: 64 }), /from 1 to 64/)
})

t.test('notify address', async (t) => {
  t.same(parseNotify('--notify', '127.0.0.1:4012'), { host: '127.0.0.1', port: 4012, family: 'udp4' })
  t.same(parseNotify('--notify', '[::1]:4012'), { host: '::1', port: 4012, family: 'udp6' })
  t.same(parseNotify('--notify', 'localhost:9'), { host: 'localhost', port: 9, family: 'udp4' })
  for (const bad of ['4012', '127.0.0.1', '127.0.0.1:0', '127.0.0.1:70000', ':4012', 'off']) {
    t.throws(() => parseNotify('--notify', bad), /is not host:port.*ROLLING_RESTART_NOTIFY/, `rejects ${bad}`)
  }
})

t.test('choices', async (t) => {
  t.equal(parseChoice('--strategy', 'surge', ['replace', 'surge'] as const), 'surge')
  t.throws(() => parseChoice('--strategy', 'rolling', ['replace', 'surge'] as const), /--strategy "rolling" is not one of: replace, surge/)
})

t.test('formatting', async (t) => {
  t.equal(formatMs(250), '250 ms')
  t.equal(formatMs(1210), '1.21 s')
  t.equal(formatMs(600_000), '10.0 min')
  t.equal(formatBytes(512), '512 B')
  t.equal(formatBytes(25.7 * 1024 * 1024), '25.7 MiB')
})
