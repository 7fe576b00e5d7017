// Start-up reaping of swarm services: a service labelled by a skiff run of this host whose process
// has died (kill -9, a crash) is removed by the next run, as docker/reap.ts does for containers.
import type { EngineApi } from '../../engine/facets.js';
import { isSkiffError } from '../../common/errors.js';
import { LABEL_RUN, ownedFilter } from '../docker/labels.js';
import { orphanTest, type ReapOptions } from '../docker/reap.js';

export async function reapServices(engine: Pick<EngineApi, 'services'>, options: ReapOptions = {}): Promise<Array<{ id: string; name: string; run: string }>> {
  const orphaned = orphanTest(options);
  let services;
  try {
    services = await engine.services.list(ownedFilter(), { signal: options.signal });
  } catch (err) {
    // Not a swarm manager: there is nothing of ours to reap there.
    if (isSkiffError(err) && /not a swarm manager|swarm mode/i.test(err.message)) return [];
    throw err;
  }
  const reaped = [];
  for (const s of services) {
    if (!orphaned(s.Spec.Labels)) continue;
    await engine.services.remove(s.ID, { signal: options.signal });
    reaped.push({ id: s.ID, name: s.Spec.Name, run: s.Spec.Labels?.[LABEL_RUN] ?? '' });
  }
  return reaped;
}
