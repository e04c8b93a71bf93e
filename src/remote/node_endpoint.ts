// comlink's Node adapter, adapted (Apache-2.0, Copyright 2019 Google LLC): wraps a
// worker_threads MessagePort/Worker's on/off('message') as the addEventListener pair
// comlink expects. Vendored because the published adapter's types do not resolve under
// `moduleResolution: nodenext` (its d.ts says `export default`, the UMD assigns
// module.exports).

import type { Endpoint } from 'comlink';

export interface NodeMessagePort {
  postMessage(message: unknown, transfer?: readonly unknown[]): void;
  on(type: 'message', listener: (value: unknown) => void): unknown;
  off(type: 'message', listener: (value: unknown) => void): unknown;
  start?: () => void;
}

type Handler = EventListenerOrEventListenerObject;

export function nodeEndpoint(port: NodeMessagePort): Endpoint {
  const listeners = new WeakMap<Handler, (data: unknown) => void>();
  return {
    postMessage: (message: unknown, transfer?: readonly unknown[]) => port.postMessage(message, transfer),
    addEventListener: (_type: string, handler: Handler) => {
      const listener = (data: unknown) => {
        const event = { data } as MessageEvent;
        if ('handleEvent' in handler) handler.handleEvent(event);
        else handler(event);
      };
      port.on('message', listener);
      listeners.set(handler, listener);
    },
    removeEventListener: (_type: string, handler: Handler) => {
      const listener = listeners.get(handler);
      if (!listener) return;
      port.off('message', listener);
      listeners.delete(handler);
    },
    ...(port.start ? { start: port.start.bind(port) } : {}),
  } as Endpoint;
}
