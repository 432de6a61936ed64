import {
  BrokenCircuitError,
  type CircuitBreakerPolicy,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
} from 'cockatiel';
import { PluginHostError } from './errors.js';
import type { HostHttpResponse } from './http-egress.js';

export interface ConnectionResilienceOptions {
  /** Upstream failures in a row that open the circuit. Default 5. */
  readonly consecutiveFailures?: number;
  /** How long the circuit stays open before one trial call. Default 30 000 ms. */
  readonly halfOpenAfterMs?: number;
  /** Sustained calls per second per connection. Default 20. */
  readonly ratePerSecond?: number;
  /** Calls allowed in a burst per connection. Default 40. */
  readonly burst?: number;
  /** Connections whose state is kept (least recently used dropped). Default 10 000. */
  readonly maxConnections?: number;
  /** Default `Date.now`; injected by tests. */
  readonly now?: () => number;
}

export interface ConnectionResilience {
  /** Runs an upstream call for a connection behind its rate limit and circuit breaker. */
  execute<T>(connectionId: string, call: () => Promise<T>): Promise<T>;
}

interface ConnectionState {
  readonly breaker: CircuitBreakerPolicy;
  tokens: number;
  refilledAt: number;
}

// Upstream trouble opens the circuit; a plugin's own mistakes (undeclared host, bad request) do not.
const UPSTREAM_FAILURES = new Set(['HTTP_FAILED', 'HTTP_TIMEOUT']);
const isUpstreamFailure = (error: Error) =>
  !(error instanceof PluginHostError) || UPSTREAM_FAILURES.has(error.code);
const isServerError = (result: unknown) =>
  typeof result === 'object' && result !== null && (result as HostHttpResponse).status >= 500;

export function createConnectionResilience(
  options: ConnectionResilienceOptions = {},
): ConnectionResilience {
  const rate = options.ratePerSecond ?? 20;
  const burst = options.burst ?? 40;
  const maxConnections = options.maxConnections ?? 10_000;
  const now = options.now ?? Date.now;
  const states = new Map<string, ConnectionState>();

  const stateFor = (connectionId: string): ConnectionState => {
    let state = states.get(connectionId);
    if (state) {
      states.delete(connectionId); // re-insert: Map order doubles as LRU order
    } else {
      state = {
        breaker: circuitBreaker(handleWhen(isUpstreamFailure).orWhenResult(isServerError), {
          halfOpenAfter: options.halfOpenAfterMs ?? 30_000,
          breaker: new ConsecutiveBreaker(options.consecutiveFailures ?? 5),
        }),
        tokens: burst,
        refilledAt: now(),
      };
      if (states.size >= maxConnections) states.delete(states.keys().next().value!);
    }
    states.set(connectionId, state);
    return state;
  };

  return {
    async execute(connectionId, call) {
      const state = stateFor(connectionId);
      const at = now();
      state.tokens = Math.min(burst, state.tokens + ((at - state.refilledAt) / 1000) * rate);
      state.refilledAt = at;
      if (state.tokens < 1) {
        throw new PluginHostError(
          'RATE_LIMITED',
          `Connection ${connectionId} is over its limit of ${rate} calls/s: retry later.`,
          { connectionId, ratePerSecond: rate },
        );
      }
      state.tokens -= 1;
      try {
        return await state.breaker.execute(call);
      } catch (error) {
        if (error instanceof BrokenCircuitError) {
          throw new PluginHostError(
            'CIRCUIT_OPEN',
            `Calls for connection ${connectionId} are paused after repeated upstream failures; they resume after a trial call succeeds.`,
            { connectionId },
            { cause: error },
          );
        }
        throw error;
      }
    },
  };
}
