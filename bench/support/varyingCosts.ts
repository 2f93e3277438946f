/**
 * A stopgap until the sandbox takes a per-request cost: crm.lead.update costs that vary from request to request
 * on a sandbox started (in this process) after `installVaryingCosts`. The sandbox copies its cost table once
 * (`{ ...DEFAULT_COSTS, ...options.costs }`) and exposes no way to change it, so:
 * - the method is taken out of DEFAULT_COSTS (and must not be in the sandbox's `costs`), so the table's lookup
 *   of it falls through to Object.prototype, where a getter answers — for a cost table only (`this` holds the
 *   other default methods), undefined for any other object; a setter keeps plain assignments own properties;
 * - every request the sandbox's server handles runs in an AsyncLocalStorage context (http.createServer is
 *   wrapped), so each request draws its cost once, at its first update: all commands of a batch share it.
 * The getter runs once per update command the sandbox runs (costOf), so it also sums the costs booked.
 * Only the bench process is touched: the CLI runs in its own process.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import http from 'node:http';
import { DEFAULT_COSTS } from '../../harness/sandbox/limits.ts';

const METHOD = 'crm.lead.update';

export interface VaryingCosts {
  /** Update commands priced, and the seconds of those over `minFix` (what the sandbox books). */
  booked(): { commands: number; seconds: number; requests: number };
  uninstall(): void;
}

/** `draw()` gives each request's cost per update, seconds; costs ≤ minFix are not counted as booked. */
export function installVaryingCosts(draw: () => number, minFix: number): VaryingCosts {
  const als = new AsyncLocalStorage<{ cost?: number }>();
  const tally = { commands: 0, seconds: 0, requests: 0 };
  const createServer = http.createServer;
  const saved = DEFAULT_COSTS[METHOD];
  delete DEFAULT_COSTS[METHOD];
  const wrapped = ((...args: unknown[]) => {
    const listener = args.find((a) => typeof a === 'function') as http.RequestListener;
    return createServer((req, res) => als.run({}, () => listener(req, res)));
  }) as typeof http.createServer;
  http.createServer = wrapped;
  Object.defineProperty(Object.prototype, METHOD, {
    configurable: true,
    enumerable: false,
    get(this: object) {
      if (!isCostTable(this)) return undefined;
      const store = als.getStore() ?? {};
      if (store.cost === undefined) {
        store.cost = draw();
        tally.requests++;
      }
      tally.commands++;
      if (store.cost > minFix) tally.seconds += store.cost;
      return store.cost;
    },
    set(this: object, value: unknown) {
      Object.defineProperty(this, METHOD, { value, writable: true, enumerable: true, configurable: true });
    },
  });
  return {
    booked: () => ({ ...tally }),
    uninstall: () => {
      delete (Object.prototype as Record<string, unknown>)[METHOD];
      http.createServer = createServer;
      DEFAULT_COSTS[METHOD] = saved;
    },
  };
}

/** The sandbox's cost table: it holds the other default methods and not this one. */
function isCostTable(t: object): boolean {
  return Object.hasOwn(t, 'crm.status.list') && Object.hasOwn(t, 'default') && !Object.hasOwn(t, METHOD);
}
