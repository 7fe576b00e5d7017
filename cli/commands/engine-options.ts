// `-H/--host` and `-c/--context`, as the docker CLI has them, for every command that talks to the
// engine. The command line only names the engine; lib/engine resolves it (contexts, DOCKER_HOST).
import { Option, UsageError } from 'clipanion';
import type { EngineSelection } from '../../lib/engine/context.js';

export function hostOption(): string | undefined {
  return Option.String('--host,-H', {
    description: 'The Docker engine to use: unix:///path, tcp://host:port or ssh://[user@]host[:port][/socket] (overrides DOCKER_HOST and contexts)',
  });
}

export function contextOption(): string | undefined {
  return Option.String('--context,-c', {
    description: 'The docker context to use (overrides DOCKER_HOST, DOCKER_CONTEXT and `docker context use`)',
  });
}

/** What the two flags chose; both at once is an error, as in the docker CLI. */
export function engineSelection(command: { engineHost: string | undefined; dockerContext: string | undefined }): EngineSelection {
  const { engineHost: host, dockerContext: context } = command;
  if (host !== undefined && context !== undefined) throw new UsageError('conflicting options: cannot specify both --host and --context');
  if (host !== undefined && host.trim() === '') throw new UsageError('--host needs an address, e.g. unix:///var/run/docker.sock or ssh://user@host');
  if (context !== undefined && context.trim() === '') throw new UsageError('--context needs a context name');
  return { host, context };
}
