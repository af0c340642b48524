import http from 'node:http';
import net from 'node:net';
import { Duplex, PassThrough, Writable } from 'node:stream';
import type WebSocket from 'ws';
import { MeshctlError, describeError } from '../errors.js';
import type { Kube } from './client.js';
import { formatDuration } from './duration.js';
import { type ApiAction, KubeTimeoutError, transportError } from './errors.js';

export interface PodTarget {
  name: string;
  namespace: string;
}

export interface HttpAnswer {
  status: number;
  body: Buffer;
}

/**
 * A byte stream to `port` inside the pod through client-node's PortForward (one WebSocket, the
 * kubelet's data and error channels). The error channel's text, if any, becomes the stream's error.
 */
export async function openTunnel(kube: Kube, pod: PodTarget, port: number): Promise<Duplex> {
  const action: ApiAction = { verb: 'create', resource: 'pods/portforward', namespace: pod.namespace, name: pod.name };
  const input = new PassThrough();
  const errorText: Buffer[] = [];
  let ws: WebSocket | undefined;
  const tunnel = new Duplex({
    write(chunk: Buffer, _enc, cb) {
      input.write(chunk, cb);
    },
    final(cb) {
      // the library closes the WebSocket when its input ends; let the reader finish first
      cb();
    },
    read() {},
    destroy(err, cb) {
      ws?.terminate();
      input.destroy();
      cb(err);
    },
  });
  const output = new Writable({
    write(chunk: Buffer, _enc, cb) {
      tunnel.push(chunk);
      cb();
    },
  });
  const errors = new Writable({
    write(chunk: Buffer, _enc, cb) {
      errorText.push(chunk);
      cb();
    },
  });
  const forward = new kube.lib.PortForward(kube.kc, true);
  try {
    ws = (await forward.portForward(pod.namespace, pod.name, [port], output, errors, input)) as unknown as WebSocket;
  } catch (err) {
    throw transportError(err, action, kube.errorContext);
  }
  const untrack = kube.track(() => tunnel.destroy());
  ws.on('close', () => {
    untrack();
    const text = Buffer.concat(errorText).toString('utf8').trim();
    if (text) tunnel.destroy(new MeshctlError(`port-forward to pod ${pod.name}.${pod.namespace} port ${port} failed: ${text.split('\n')[0]}`));
    else tunnel.push(null);
  });
  ws.on('error', (err) => tunnel.destroy(err));
  return tunnel;
}

/**
 * One HTTP request to `port` in the pod over a fresh port-forward, read whole, within the kube
 * timeout. A port-forward that ends before the response is complete is an error, never a short body.
 */
export async function podHttp(
  kube: Kube,
  pod: PodTarget,
  port: number,
  path: string,
  method = 'GET',
): Promise<HttpAnswer> {
  const where = `pod ${pod.name}.${pod.namespace} port ${port}`;
  const deadline = timer(kube.timeoutMs);
  try {
    const tunnel = await Promise.race([openTunnel(kube, pod, port), deadline.promise]);
    return await Promise.race([request(tunnel, port, path, method, where), deadline.promise]).finally(() => tunnel.destroy());
  } catch (err) {
    if (err === TIMEOUT) {
      throw new KubeTimeoutError(`timed out after ${formatDuration(kube.timeoutMs)} waiting for ${method} ${path} from ${where} (raise --timeout)`);
    }
    throw err;
  } finally {
    deadline.cancel();
  }
}

const TIMEOUT = Symbol('timeout');

function timer(ms: number): { promise: Promise<never>; cancel(): void } {
  let handle: NodeJS.Timeout;
  const promise = new Promise<never>((_, reject) => {
    handle = setTimeout(() => reject(TIMEOUT), ms);
  });
  promise.catch(() => undefined);
  return { promise, cancel: () => clearTimeout(handle) };
}

function request(tunnel: Duplex, port: number, path: string, method: string, where: string): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      method,
      path,
      headers: { host: `localhost:${port}`, connection: 'close' },
      createConnection: () => tunnel as unknown as net.Socket,
    });
    req.on('error', (err) => reject(dropped(err, where, path, 0)));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        size += c.length;
      });
      res.on('error', (err) => reject(dropped(err, where, path, size)));
      res.on('aborted', () => reject(dropped(new Error('aborted'), where, path, size)));
      res.on('end', () => {
        if (!res.complete) reject(dropped(new Error('incomplete'), where, path, size));
        else resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) });
      });
    });
    req.end();
  });
}

function dropped(err: unknown, where: string, path: string, bytes: number): MeshctlError {
  if (err instanceof MeshctlError) return err;
  const after = bytes > 0 ? ` after ${bytes} bytes` : '';
  return new MeshctlError(`port-forward to ${where} closed${after} while reading ${path}, before the response was complete (${describeError(err)})`);
}

export interface LocalForward {
  /** The local port, bound on 127.0.0.1. */
  port: number;
  close(): Promise<void>;
}

/**
 * A listening socket on 127.0.0.1 that forwards each connection into the pod (kubectl port-forward's
 * model), for `dashboard envoy`. Errors of single connections are reported through `onError`.
 */
export async function forwardLocalPort(
  kube: Kube,
  pod: PodTarget,
  remotePort: number,
  localPort = 0,
  onError: (err: unknown) => void = () => undefined,
): Promise<LocalForward> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.pause();
    openTunnel(kube, pod, remotePort).then(
      (tunnel) => {
        tunnel.on('error', (err) => {
          onError(err);
          socket.destroy();
        });
        socket.on('close', () => tunnel.destroy());
        tunnel.on('end', () => socket.end());
        socket.pipe(tunnel);
        tunnel.pipe(socket);
        socket.resume();
      },
      (err) => {
        onError(err);
        socket.destroy();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new MeshctlError(`cannot listen on 127.0.0.1:${localPort}: ${err.code ?? describeError(err)}`)),
    );
    server.listen(localPort, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  const close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  kube.track(() => void close());
  return { port, close };
}
