/**
 * A loopback proxy in front of the sandbox portal that can be "down" as a web server in an outage is: while
 * `isDown()` says so, every request is either refused (the connection is dropped unanswered: NETWORK_ERROR)
 * or answered by nginx's 502 page, and nothing reaches the portal (its ledger sees nothing). The test decides
 * when, usually on its compressed clock. Port 0, loopback only.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type OutageMode = 'refuse' | 'bad-gateway';

export interface OutageProxy {
  /** The sandbox webhook's path on the proxy's address. */
  webhookUrl: string;
  /** Requests the proxy turned away (down) and passed on. */
  turnedAway: number;
  passed: number;
  close(): Promise<void>;
}

const NGINX_502 =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';

export async function startOutageProxy(
  webhookUrl: string,
  opts: { isDown: () => boolean; mode: OutageMode; onPassed?: (path: string) => void },
): Promise<OutageProxy> {
  const target = new URL(webhookUrl);
  const stats = { turnedAway: 0, passed: 0 };
  const server: Server = createServer((req, res) => {
    if (opts.isDown()) {
      stats.turnedAway++;
      req.resume();
      if (opts.mode === 'refuse') req.socket.destroy();
      else res.writeHead(502, { 'content-type': 'text/html', server: 'nginx' }).end(NGINX_502);
      return;
    }
    stats.passed++;
    const upstream = request(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: { ...req.headers, host: target.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on('end', () => opts.onPassed?.(req.url ?? ''));
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    webhookUrl: `http://127.0.0.1:${port}${target.pathname}`,
    get turnedAway() {
      return stats.turnedAway;
    },
    get passed() {
      return stats.passed;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A compressed clock: `speed` clock-ms per real ms from `start`, and `wait(until)`/`sleep(ms)` jump it forward
 * at once (the workflow's Wait state, the CLI's sleep), so an outage of minutes takes a fraction of a second.
 */
export function compressedClock(start: number, speed: number) {
  const t0 = Date.now();
  let jumped = 0;
  const now = () => start + (Date.now() - t0) * speed + jumped;
  return {
    now,
    wait: async (until: number) => {
      jumped += Math.max(0, until - now());
    },
    sleep: async (ms: number) => {
      jumped += Math.max(0, ms);
    },
  };
}
