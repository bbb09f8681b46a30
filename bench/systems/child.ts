import { fork, type ChildProcess } from 'node:child_process';
import { waitFor } from './types';

export interface DoomedWorker {
  child: ChildProcess;
  /** Ids of the jobs whose handler started in the child. */
  started: Set<string>;
  /** SIGKILLs the child and resolves, once it is gone, with the time of the kill (performance.now()). */
  kill(): Promise<number>;
}

/**
 * Forks a worker of one of the systems (a script next to this file) and waits until it has started
 * `held` jobs whose handlers never return.
 */
export async function forkDoomedWorker(script: string, args: string[], held: number, timeoutMs = 60_000): Promise<DoomedWorker> {
  const child = fork(new URL(script, import.meta.url).pathname, args, {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const started = new Set<string>();
  child.on('message', (message: { started?: unknown }) => {
    if (message && message.started !== undefined) started.add(String(message.started));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ok = await waitFor(() => started.size >= held || child.exitCode !== null, timeoutMs);
  if (!ok || started.size < held) {
    child.kill('SIGKILL');
    throw new Error(`${script}: the worker started ${started.size} of ${held} jobs`);
  }
  return {
    child,
    started,
    async kill() {
      const killedAt = performance.now();
      child.kill('SIGKILL');
      await exited;
      return killedAt;
    },
  };
}
