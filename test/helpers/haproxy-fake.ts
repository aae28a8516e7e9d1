// A scripted HAProxy for unit tests: a fake transport for haproxyRuntime({ send }) that answers the
// runtime API commands the drain sends, in HAProxy 2.6's own words, and records every command.

export interface FakeServer {
  admin: number
  /** scur answered on each successive `show stat` (the last one repeats) */
  scur: number[]
}

const HEADER = '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight'

/** A scripted HAProxy: backend -> server -> state. Records every command it was sent. */
export const fakeHaproxy = (backends: Record<string, Record<string, FakeServer>>, level = 'admin') => {
  const sent: string[] = []
  const send = async (_path: string, command: string): Promise<string> => {
    sent.push(command)
    const words = command.split(' ')
    if (command === 'show cli level') return `${level}\n\n`
    if (command === 'show backend') return `# name\n${Object.keys(backends).join('\n')}\n\n`
    if (command.startsWith('show servers state ')) {
      const be = backends[words[3] ?? '']
      if (!be) return "Can't find backend.\n\n"
      const rows = Object.entries(be).map(([name, s], i) => `3 ${words[3]} ${i + 1} ${name} 127.0.0.1 2 ${s.admin} 1 1`)
      return ['1', HEADER, ...rows, '', ''].join('\n')
    }
    if (command.startsWith('show stat ')) {
      const be = backends[words[2] ?? '']
      if (!be) return 'No such proxy.\n\n'
      const rows = Object.entries(be).map(([name, s]) => `${words[2]},${name},${s.scur.length > 1 ? s.scur.shift() : s.scur[0]},UP`)
      return ['# pxname,svname,scur,status', ...rows, '', ''].join('\n')
    }
    if (command.startsWith('set server ')) {
      if (level !== 'admin') return 'Permission denied\n\n'
      const [b, s] = (words[2] ?? '').split('/')
      const be = backends[b ?? '']
      if (!be) return 'No such backend.\n\n'
      const server = be[s ?? '']
      if (!server) return 'No such server.\n\n'
      server.admin = words[4] === 'drain' ? 8 : words[4] === 'maint' ? 1 : 0
      return '\n'
    }
    return 'Unknown command\n\n'
  }
  return { sent, send, backends }
}

export const clock = () => {
  let now = 0
  return { now: () => now, wait: async (ms: number) => void (now += ms) }
}
