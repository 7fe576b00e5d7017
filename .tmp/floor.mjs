// Floor: 32 one-second services, 8 at a time, a new one created the moment a task container dies
// (die events), no log reads, no polls, removals after the last.
import { request, Agent } from 'undici';
const d = new Agent({ connect: { socketPath: '/run/skiff-swarm/docker.sock' }, connections: 16 });
const api = async (m, p, body) => { const r = await request('http://d/v1.41' + p, { method: m, dispatcher: d, body: body && JSON.stringify(body), headers: { 'content-type': 'application/json' } }); return r.body.json().catch(() => null); };
const t0 = performance.now();
const img = '127.0.0.1:5000/busybox:latest';
const run = `floor${Date.now()}`;
const ev = await request('http://d/v1.41/events?filters=' + encodeURIComponent(JSON.stringify({ type: ['container'], event: ['die'], label: [`x.floor=${run}`] })), { dispatcher: d });
const waiters = new Map();
(async () => { let buf = ''; for await (const ch of ev.body) { buf += ch; let i; while ((i = buf.indexOf('\n')) >= 0) { const e = JSON.parse(buf.slice(0, i)); buf = buf.slice(i + 1); const s = e.Actor.Attributes['com.docker.swarm.service.id']; waiters.get(s)?.(); } } })().catch(() => {});
const dist = await api('GET', `/distribution/${encodeURIComponent(img)}/json`);
const ids = [];
let next = 0;
async function slot() {
  while (next < 32) {
    const i = next++;
    const spec = { Name: `${run}-${i}`, TaskTemplate: { ContainerSpec: { Image: `${img}@${dist.Descriptor.digest}`, Args: ['sh', '-c', 'sleep 1; echo hi'], Labels: { 'x.floor': run } }, RestartPolicy: { Condition: 'none' } }, Mode: { Replicated: { Replicas: 1 } } };
    let done; const died = new Promise((r) => (done = r));
    const c = await api('POST', '/services/create', spec);
    waiters.set(c.ID, done); ids.push(c.ID);
    await died;
  }
}
await Promise.all(Array.from({ length: 8 }, slot));
const t = performance.now() - t0;
ev.body.destroy();
await Promise.all(ids.map((id) => api('DELETE', `/services/${id}`)));
console.log(`floor ${Math.round(t)} ms (+removals ${Math.round(performance.now() - t0 - t)} ms)`);
await d.close();
