// A TLS front for the engine's socket, requiring client certificates, so DOCKER_HOST=tcp:// with
// DOCKER_TLS_VERIFY can be tested without touching a running daemon's flags. (socat's TLS mode
// refuses session resumption, which undici uses.) Usage: node tls-relay.mjs PORT CERTDIR SOCKET
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:tls';

const [port, certs, socket] = process.argv.slice(2);
const server = createServer(
  {
    // An attach without stdin is half-closed by the client at once; its output must still flow back.
    allowHalfOpen: true,
    ca: readFileSync(join(certs, 'ca.pem')),
    cert: readFileSync(join(certs, 'server-cert.pem')),
    key: readFileSync(join(certs, 'server-key.pem')),
    requestCert: true,
    rejectUnauthorized: true,
  },
  (client) => {
    const engine = connect({ path: socket, allowHalfOpen: true });
    client.pipe(engine).pipe(client);
    const close = () => {
      client.destroy();
      engine.destroy();
    };
    client.on('error', close);
    engine.on('error', close);
    // Keep half-closes: stdin EOF of an attach travels as a FIN.
    client.on('end', () => engine.end());
    engine.on('end', () => client.end());
  },
);
server.on('tlsClientError', () => {});
server.listen(Number(port), '127.0.0.1');
