// Test support: a loopback HTTP peer, an injected resolver and a connect guard that records
// (and refuses) any socket to a non-loopback address, so no packet can leave the machine.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, Socket } from 'node:net';

export interface SeenRequest {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

export interface LoopbackPeer {
  readonly port: number;
  readonly seen: SeenRequest[];
  close(): Promise<void>;
}

export type Route = (req: IncomingMessage, res: ServerResponse, body: string) => void;

export async function startPeer(route: Route): Promise<LoopbackPeer> {
  const seen: SeenRequest[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      route(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Names the tests use; everything else fails to resolve. No real DNS is ever asked. */
export const TEST_DNS: Readonly<Record<string, readonly string[]>> = {
  'api.peer.test': ['127.0.0.1'],
  'loop.example': ['127.0.0.1'],
  'v6loop.example': ['::1'],
  'evil.example': ['10.0.0.1'],
  'meta.example': ['169.254.169.254'],
  'mixed.example': ['93.184.216.34', '10.0.0.1'],
};

export const testResolver = async (hostname: string): Promise<readonly string[]> => {
  const answer = TEST_DNS[hostname];
  if (!answer) throw new Error(`ENOTFOUND ${hostname} (test resolver)`);
  return answer;
};

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost', '::ffff:127.0.0.1']);

/** Every non-loopback connect attempt seen since installation. */
export const connectViolations: string[] = [];
let installed = false;

/** Patches net.Socket#connect for this process: a non-loopback target is recorded and refused. */
export function installConnectGuard(): void {
  if (installed) return;
  installed = true;
  const original = Socket.prototype.connect;
  Socket.prototype.connect = function guardedConnect(this: Socket, ...args: unknown[]) {
    const first = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
    const options =
      typeof first === 'object' && first !== null
        ? (first as { host?: string; path?: string })
        : { host: typeof args[1] === 'string' ? args[1] : 'localhost' };
    if (options.path === undefined) {
      const host = options.host ?? 'localhost';
      if (!LOOPBACK.has(host)) {
        connectViolations.push(host);
        throw new Error(`connect guard: refused a socket to ${host}`);
      }
    }
    return (original as (...a: unknown[]) => Socket).apply(this, args);
  } as typeof Socket.prototype.connect;
}
