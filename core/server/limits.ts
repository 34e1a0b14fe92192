import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/** Connection caps of a listener. */
export interface ConnectionCaps {
  /** Open connections in all (0: no cap). */
  maxConnections: number;
  /** Open connections from one remote address (0: no cap). */
  maxConnectionsPerClient: number;
}

const REFUSAL_BODY = JSON.stringify({ error: { code: 'INTAKE_ERR_CONNECTION_LIMIT', message: 'too many connections', retriable: true } });
const REFUSAL = `HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 5\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(REFUSAL_BODY)}\r\n\r\n${REFUSAL_BODY}`;

/**
 * Caps open connections, in all and per remote address, so that one client cannot hold every
 * socket (slow or idle connections) and lock out the others. A connection over a cap is answered
 * at once with a 503 (plain HTTP; a TLS socket is closed, as it has not shaken hands yet) and
 * closed; nothing of it is read. Counts are kept per address and dropped when the last socket of
 * an address closes, so the map is bounded by the open connections.
 */
export function capConnections(server: Server, caps: ConnectionCaps, tls: boolean, onRefused: (cap: 'total' | 'client') => void): void {
  const perClient = new Map<string, number>();
  let open = 0;
  const refuse = (socket: Socket, cap: 'total' | 'client'): void => {
    onRefused(cap);
    socket.on('error', () => undefined);
    if (tls) socket.destroy();
    else socket.end(REFUSAL);
    // a client that does not read its refusal must not keep the socket
    setTimeout(() => socket.destroy(), 1000).unref();
  };
  // prependListener: decide before the HTTP machinery sets the socket up
  server.prependListener('connection', (socket: Socket) => {
    const addr = socket.remoteAddress ?? '?';
    const mine = perClient.get(addr) ?? 0;
    if (caps.maxConnections > 0 && open >= caps.maxConnections) return refuse(socket, 'total');
    if (caps.maxConnectionsPerClient > 0 && mine >= caps.maxConnectionsPerClient) return refuse(socket, 'client');
    open++;
    perClient.set(addr, mine + 1);
    socket.once('close', () => {
      open--;
      const n = (perClient.get(addr) ?? 1) - 1;
      if (n <= 0) perClient.delete(addr);
      else perClient.set(addr, n);
    });
  });
}
