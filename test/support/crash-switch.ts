import type { StateStore, UsersApi, UsersApiProvider } from '../../functions/core/engine/ports';

/** Thrown at the simulated crash point and by every port call after it, as if the process had died. */
export class Crash extends Error {
  constructor(point: string) {
    super(`simulated crash at ${point}`);
    this.name = 'Crash';
  }
}

/**
 * Kills one delivery at its n-th port call (before or after the call takes effect): every later call of
 * that delivery fails as well, so no cleanup code runs, exactly as with `kill -9`.
 */
export class CrashSwitch {
  private calls = 0;
  private crashAt = Number.POSITIVE_INFINITY;
  private effectFirst = false;
  private crashed = false;

  /** Arms the switch for the next delivery; `undefined` means no crash. */
  arm(crashAt: number | undefined, effectFirst: boolean): void {
    this.calls = 0;
    this.crashAt = crashAt ?? Number.POSITIVE_INFINITY;
    this.effectFirst = effectFirst;
    this.crashed = false;
  }

  async around<T>(point: string, call: () => Promise<T>): Promise<T> {
    if (this.crashed) throw new Crash(point);
    this.calls += 1;
    if (this.calls !== this.crashAt) return call();
    this.crashed = true;
    if (this.effectFirst) await call().catch(() => undefined);
    throw new Crash(point);
  }
}

function wrap<T extends object>(target: T, name: string, crash: CrashSwitch): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) =>
        crash.around(`${name}.${String(property)}`, () => Promise.resolve(value.apply(object, args)));
    },
  });
}

export function crashingStore(store: StateStore, crash: CrashSwitch): StateStore {
  return {
    events: wrap(store.events, 'events', crash),
    ledger: wrap(store.ledger, 'ledger', crash),
    people: wrap(store.people, 'people', crash),
    recordSuccess: (...args) => crash.around('recordSuccess', () => store.recordSuccess(...args)),
    forget: (...args) => crash.around('forget', () => store.forget(...args)),
    forgetAudits: () => store.forgetAudits(),
  };
}

export function crashingApi(provider: UsersApiProvider, crash: CrashSwitch): UsersApiProvider {
  const wrapApi = (api: UsersApi) => wrap(api, 'api', crash);
  return {
    get: async () => wrapApi(await provider.get()),
    refresh: async () => wrapApi(await provider.refresh()),
  };
}
