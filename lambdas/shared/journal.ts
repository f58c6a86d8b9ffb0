/**
 * The AWS call journal: every mutating SDK call a task makes — service, operation, AWS
 * request id, time, and error name if it failed — collected per invocation
 * (AsyncLocalStorage) and returned with the task's result, so the manifest can
 * cite the request id of every action.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface JournalEntry {
  service: string;
  operation: string;
  requestId: string | null;
  at: string;
  error?: string;
}

const storage = new AsyncLocalStorage<JournalEntry[]>();

export async function withJournal<T>(fn: () => Promise<T>): Promise<{ result: T; journal: JournalEntry[] }> {
  const journal: JournalEntry[] = [];
  const result = await storage.run(journal, fn);
  return { result, journal };
}

interface Sendable {
  send(command: unknown, ...rest: unknown[]): Promise<unknown>;
}

function requestIdOf(value: unknown): string | null {
  const id = (value as { $metadata?: { requestId?: unknown } } | null)?.$metadata?.requestId;
  return typeof id === 'string' ? id : null;
}

/** Reads are not actions: recording them would grow the journal (and the state) with every manifest rewrite. */
const READ = /^(Describe|Get|List|Head)/;

/**
 * Wrap a client's `send` (on the instance, so prototype-level test mocks still
 * apply) to record each call in the current invocation's journal.
 */
export function journaled<T>(client: T, service: string): T {
  const c = client as unknown as Sendable;
  const original = c.send.bind(c);
  c.send = async (command: unknown, ...rest: unknown[]) => {
    const journal = storage.getStore();
    const operation = ((command as { constructor?: { name?: string } })?.constructor?.name ?? 'Unknown').replace(/Command$/, '');
    if (READ.test(operation)) return original(command, ...rest);
    try {
      const out = await original(command, ...rest);
      journal?.push({ service, operation, requestId: requestIdOf(out), at: new Date().toISOString() });
      return out;
    } catch (err) {
      journal?.push({ service, operation, requestId: requestIdOf(err), at: new Date().toISOString(), error: (err as Error).name });
      throw err;
    }
  };
  return client;
}
